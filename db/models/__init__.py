"""All tables; importing this module registers them on Base.metadata."""

from db.models.cases import Case, CaseHistory, CaseParty
from db.models.definitions import Definition
from db.models.documents import Document
from db.models.organisation import Jurisdiction, TaskForce, TaskForcePosition, TaskForceUnit, Unit
from db.models.outbox import OutboxItem
from db.models.sequences import Sequence
from db.models.time import CadenceRun, CaseLink, Deadline, Setting, Timer

__all__ = [
    "CadenceRun",
    "CaseLink",
    "Deadline",
    "Setting",
    "Timer",
    "Case",
    "CaseHistory",
    "CaseParty",
    "Definition",
    "Document",
    "Jurisdiction",
    "OutboxItem",
    "Sequence",
    "TaskForce",
    "TaskForcePosition",
    "TaskForceUnit",
    "Unit",
]
