"""Attachment rows (the bytes are files; see engine/attachments.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from db.models import Attachment

_t = Attachment.__table__


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: int
    case_id: int
    sha256: str
    size: int
    media_type: str
    filename: str
    description: str
    uploaded_by: str
    uploader_unit: str | None
    history_seq: int
    uploaded_at: datetime


_COLS = (_t.c.id, _t.c.case_id, _t.c.sha256, _t.c.size, _t.c.media_type, _t.c.filename, _t.c.description,
         _t.c.uploaded_by, _t.c.uploader_unit, _t.c.history_seq, _t.c.uploaded_at)


def insert_attachment(conn: Connection, **values) -> AttachmentRow:
    new_id = conn.execute(insert(_t).returning(_t.c.id), values).scalar_one()
    return get(conn, values["case_id"], new_id)  # type: ignore[return-value]


def get(conn: Connection, case_id: int, attachment_id: int) -> AttachmentRow | None:
    row = conn.execute(select(*_COLS).where(_t.c.case_id == case_id, _t.c.id == attachment_id)).first()
    return AttachmentRow(*row) if row else None


def of_case(conn: Connection, case_id: int) -> list[AttachmentRow]:
    return [AttachmentRow(*r) for r in conn.execute(select(*_COLS).where(_t.c.case_id == case_id).order_by(_t.c.id))]
