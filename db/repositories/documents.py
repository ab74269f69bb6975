"""The document archive: insert once, look up by id or by the history row that caused it."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Connection, insert, select

from db.models import Document

_t = Document.__table__


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """An archived document without its bytes (listings never load them)."""

    id: int
    case_id: int
    history_seq: int
    kind: str
    origin: str
    issuer: str
    issuer_unit: str | None
    year: int
    serial: int | None
    number: str
    title: str
    template_version: str | None
    media_type: str
    sha256: str
    size: int
    created_at: datetime


_COLS = tuple(_t.c[f.name] for f in fields(DocumentRow))


def insert_document(conn: Connection, *, case_id: int, history_seq: int, kind: str, origin: str, issuer: str,
                    issuer_unit: str | None, year: int, serial: int | None, number: str, title: str,
                    template_version: str | None, media_type: str, sha256: str, content: bytes,
                    created_at: datetime) -> int:
    return conn.execute(insert(_t).returning(_t.c.id), {
        "case_id": case_id, "history_seq": history_seq, "kind": kind, "origin": origin, "issuer": issuer,
        "issuer_unit": issuer_unit, "year": year, "serial": serial, "number": number, "title": title,
        "template_version": template_version, "media_type": media_type, "sha256": sha256, "size": len(content),
        "content": content, "created_at": created_at,
    }).scalar_one()


def get(conn: Connection, document_id: int) -> DocumentRow | None:
    row = conn.execute(select(*_COLS).where(_t.c.id == document_id)).first()
    return DocumentRow(*row) if row else None


def find(conn: Connection, case_id: int, history_seq: int, kind: str) -> DocumentRow | None:
    row = conn.execute(select(*_COLS).where(_t.c.case_id == case_id, _t.c.history_seq == history_seq,
                                            _t.c.kind == kind)).first()
    return DocumentRow(*row) if row else None


def content(conn: Connection, document_id: int) -> bytes | None:
    return conn.execute(select(_t.c.content).where(_t.c.id == document_id)).scalar_one_or_none()


def of_case(conn: Connection, case_id: int) -> list[DocumentRow]:
    return [DocumentRow(*r) for r in conn.execute(
        select(*_COLS).where(_t.c.case_id == case_id).order_by(_t.c.history_seq, _t.c.id))]
