"""All tables; importing this module registers them on Base.metadata."""

from db.models.accounts import AccountChange, ApiKey, AuthToken, CalendarFeed, SignInAttempt, User, WorkVisit
from db.models.assignments import CaseAssignment, CaseRead, CaseShare, Delegation
from db.models.attachments import Attachment
from db.models.background import JobFailure, WorkerHeartbeat
from db.models.cases import Case, CaseHistory, CaseParty
from db.models.definitions import Definition
from db.models.documents import Document
from db.models.figures import CaseKey
from db.models.idempotency import IdempotencyKey
from db.models.notices import Channel, Delivery, Notice, NoticeRead
from db.models.organisation import Jurisdiction, TaskForce, TaskForcePosition, TaskForceUnit, Unit
from db.models.outbox import OutboxItem
from db.models.sequences import Sequence
from db.models.time import CadenceRun, CaseLink, Deadline, Setting, Timer

__all__ = [
    "CaseAssignment",
    "CaseRead",
    "CaseShare",
    "Delegation",
    "Channel",
    "Delivery",
    "JobFailure",
    "Notice",
    "NoticeRead",
    "WorkerHeartbeat",
    "CadenceRun",
    "CaseLink",
    "Deadline",
    "Setting",
    "Timer",
    "AccountChange",
    "ApiKey",
    "Attachment",
    "AuthToken",
    "Case",
    "CaseKey",
    "CaseHistory",
    "CaseParty",
    "Definition",
    "Document",
    "IdempotencyKey",
    "Jurisdiction",
    "OutboxItem",
    "Sequence",
    "SignInAttempt",
    "CalendarFeed",
    "WorkVisit",
    "TaskForce",
    "TaskForcePosition",
    "TaskForceUnit",
    "Unit",
    "User",
]
