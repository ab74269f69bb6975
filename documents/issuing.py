"""Issue a document: number it, render it and archive it, in the caller's transaction.

The number comes from a gap-free per-issuer, per-year counter (db/repositories/sequences.py) taken
in the same transaction as the render and the archive row: a render that fails rolls the counter
back with it, so no number is lost, and concurrent issuers queue on the counter's row, so none is
given twice. A (case, history row, kind) is issued once; asking again returns the archived copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection

from db.repositories import documents as repo
from db.repositories import sequences
from db.repositories.documents import DocumentRow
from db.session import Database
from documents import render
from documents.contexts import Issue, Kind, get_kind
from documents.records import CaseRecord, MissingData, load

PDF = "application/pdf"


class ArchiveCorrupted(render.RenderError):
    """The archived bytes no longer match their SHA-256."""


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who issues a document: the 机关代字 its number starts with, and the unit behind it."""

    prefix: str
    unit: str | None


def issuer_of(kind: Kind, record: CaseRecord) -> Issuer:
    """The office (the task force's doc_prefix) or the unit holding the kind's issuing party role."""
    if kind.issuer_role is None:
        office = record.task_force.office
        return Issuer(record.task_force.doc_prefix + kind.series, office.code if office else None)
    codes = record.party(kind.issuer_role)
    if not codes:
        raise MissingData(f"case {record.case_number}: no {kind.issuer_role} party to issue {kind.name}")
    unit = record.unit(codes[0])
    # Units have no 机关代字 of their own in organisation.yaml yet: their short name stands in.
    return Issuer(unit.short_name + kind.series, unit.code)


def document_number(prefix: str, year: int, serial: int) -> str:
    """发文字号: 机关代字〔年份〕序号号 — full year in 六角括号, no 第, no leading zeros."""
    return f"{prefix}〔{year}〕{serial}号"


def issue(conn: Connection, *, case_id: int, history_seq: int, kind: str, now: dt.datetime) -> DocumentRow:
    """The document `kind` issued by history row `history_seq` of a case: archived once, then found."""
    existing = repo.find(conn, case_id, history_seq, kind)
    if existing is not None:
        return existing
    spec = get_kind(kind)
    record = load(conn, case_id, history_seq)
    issuer = issuer_of(spec, record)
    day = record.issued_on
    serial = sequences.next_value(conn, f"doc:{issuer.prefix}", day.year)
    number = document_number(issuer.prefix, day.year, serial)
    context = spec.build(record, Issue(number, day))
    pdf = render.render_pdf(spec.template, context)
    title = context["title"]
    document_id = repo.insert_document(
        conn, case_id=case_id, history_seq=history_seq, kind=kind, origin="issued", issuer=issuer.prefix,
        issuer_unit=issuer.unit, year=day.year, serial=serial, number=number,
        title=title if isinstance(title, str) else "".join(title),
        template_version=render.TEMPLATE_VERSION[spec.template], media_type=PDF,
        sha256=hashlib.sha256(pdf).hexdigest(), content=pdf, created_at=now,
    )
    found = repo.get(conn, document_id)
    assert found is not None
    return found


def keep_received(conn: Connection, *, case_id: int, history_seq: int, kind: str, number: str, title: str,
                  issuer: str, issuer_unit: str | None, received_on: dt.date, content: bytes,
                  media_type: str = PDF, now: dt.datetime) -> DocumentRow:
    """Archive a document served on a case (a 检察建议书, numbered and sealed in its issuer's own
    system) as evidence: its own number, no serial of ours, no template."""
    existing = repo.find(conn, case_id, history_seq, kind)
    if existing is not None:
        return existing
    document_id = repo.insert_document(
        conn, case_id=case_id, history_seq=history_seq, kind=kind, origin="received", issuer=issuer,
        issuer_unit=issuer_unit, year=received_on.year, serial=None, number=number, title=title,
        template_version=None, media_type=media_type, sha256=hashlib.sha256(content).hexdigest(),
        content=content, created_at=now,
    )
    found = repo.get(conn, document_id)
    assert found is not None
    return found


def fetch(db: Database, document_id: int) -> tuple[DocumentRow, bytes] | None:
    """An archived document and its bytes, checked against the SHA-256 recorded when it was archived."""
    with db.read() as conn:
        row = repo.get(conn, document_id)
        if row is None:
            return None
        content = repo.content(conn, document_id)
    if content is None or hashlib.sha256(content).hexdigest() != row.sha256:
        raise ArchiveCorrupted(f"document {row.number} (id {row.id}) does not match its SHA-256")
    return row, bytes(content)


def of_case(db: Database, case_id: int) -> list[DocumentRow]:
    with db.read() as conn:
        return repo.of_case(conn, case_id)
