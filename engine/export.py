"""A case with its whole history as one JSON document: enough to re-check its hash chain elsewhere."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from db.repositories import attachments as attachments_repo
from db.repositories.attachments import AttachmentRow
from db.repositories.case_queries import CaseRecord
from db.repositories.cases import HistoryRow
from engine.access import CaseAccess
from engine.definition import Definition

FORMAT = "gongzhi.case-export/1"


def _when(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _plain(row: HistoryRow | AttachmentRow, time_field: str) -> dict[str, Any]:
    out = {k: v for k, v in asdict(row).items() if k != "case_id"}
    out[time_field] = _when(out[time_field])
    return out


def export_case(case: CaseRecord, definition: Definition, history: list[HistoryRow],
                attachments: list[AttachmentRow], exported_at: datetime) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "exported_at": exported_at.isoformat(),
        "definition": {"name": definition.name, "version": definition.version, "title": definition.title,
                       "content_hash": definition.content_hash},
        "case": {
            "id": case.id, "number": case.number, "task_force": case.task_force_code, "state": case.state,
            "state_title": definition.states[case.state].title, "version": case.version, "closed": case.closed,
            "title": case.title, "description": case.description, "data": case.data, "parties": case.parties,
            "head_hash": case.head_hash, "created_at": _when(case.created_at), "updated_at": _when(case.updated_at),
            "state_entered_at": _when(case.state_entered_at), "due_at": _when(case.due_at),
        },
        # Every field the hash covers, so `verify` can be repeated from this document alone.
        "history": [_plain(h, "at") for h in history],
        "attachments": [_plain(a, "uploaded_at") for a in attachments],
    }


def case_export(conn: Connection, access: CaseAccess, case_id: int, now: datetime) -> dict[str, Any]:
    """The export of a case the viewer may read (NotFound otherwise)."""
    case = access.record(conn, case_id)
    return export_case(case, access.machine(conn, case).definition, access.history(conn, case_id),
                       attachments_repo.of_case(conn, case_id), now)
