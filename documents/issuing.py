"""Issue a document: number it, render it and archive it.

The number comes from a gap-free per-issuer, per-year counter (db/repositories/sequences.py) taken
in the same transaction as the archive row: a render that fails takes no number, so none is lost,
and concurrent issuers queue on the counter's row, so none is given twice. A (case, history row,
kind) is issued once; asking again returns the archived copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
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


@dataclass(frozen=True)
class _Subject:
    """What a document is made of, before it has a number."""

    kind: Kind
    record: CaseRecord
    issuer: Issuer

    @property
    def year(self) -> int:
        return self.record.issued_on.year

    @property
    def scope(self) -> str:
        return f"doc:{self.issuer.prefix}"


def _subject(conn: Connection, case_id: int, history_seq: int, kind: str) -> _Subject:
    spec = get_kind(kind)
    record = load(conn, case_id, history_seq)
    return _Subject(spec, record, issuer_of(spec, record))


def _render(subject: _Subject, serial: int) -> tuple[str, str, bytes]:
    """(number, title, PDF) of the subject under the given serial."""
    number = document_number(subject.issuer.prefix, subject.year, serial)
    context = subject.kind.build(subject.record, Issue(number, subject.record.issued_on))
    title = context["title"]
    pdf = render.render_pdf(subject.kind.template, context)
    return number, title if isinstance(title, str) else "".join(title), pdf


def _archive(conn: Connection, subject: _Subject, serial: int, rendered: tuple[str, str, bytes],
             now: dt.datetime) -> DocumentRow:
    number, title, pdf = rendered
    record = subject.record
    document_id = repo.insert_document(
        conn, case_id=record.case_id, history_seq=record.cause.seq, kind=subject.kind.name, origin="issued",
        issuer=subject.issuer.prefix, issuer_unit=subject.issuer.unit, year=subject.year, serial=serial,
        number=number, title=title, template_version=render.TEMPLATE_VERSION[subject.kind.template],
        media_type=PDF, sha256=hashlib.sha256(pdf).hexdigest(), content=pdf, created_at=now,
    )
    return _get(conn, document_id)


def issue(conn: Connection, *, case_id: int, history_seq: int, kind: str, now: dt.datetime) -> DocumentRow:
    """The document `kind` issued by history row `history_seq` of a case, all in the caller's
    transaction (which holds the issuer's counter while it renders): archived once, then found."""
    existing = repo.find(conn, case_id, history_seq, kind)
    if existing is not None:
        return existing
    subject = _subject(conn, case_id, history_seq, kind)
    serial = sequences.next_value(conn, subject.scope, subject.year)
    return _archive(conn, subject, serial, _render(subject, serial), now)


class _NumberTaken(Exception):
    """Another issuer took the number a document was rendered with."""


def issue_outside_the_lock(db: Database, *, case_id: int, history_seq: int, kind: str, now: dt.datetime,
                           tries: int = 3, then: Callable[[Connection], None] | None = None) -> DocumentRow:
    """Like issue, but render with the number the counter will give next, outside any write
    transaction, then take that number and archive in a short one. The writer lock (SQLite) and
    the issuer's counter (PostgreSQL) are held for milliseconds, not for a render, so events never
    wait on a document. If another issuer took the number meanwhile, render again; after `tries`
    lost races, render inside the transaction. Numbers stay gap-free: one is taken only together
    with its archive row. `then` runs in the transaction that archives (or finds) the document."""
    for _ in range(tries):
        prepared = None
        with db.read() as conn:
            if repo.find(conn, case_id, history_seq, kind) is None:
                subject = _subject(conn, case_id, history_seq, kind)
                prepared = subject, sequences.current_value(conn, subject.scope, subject.year) + 1
        rendered = _render(*prepared) if prepared else None
        try:
            with db.write() as conn:
                document = repo.find(conn, case_id, history_seq, kind)
                if document is None:
                    if prepared is None or rendered is None:
                        raise _NumberTaken  # cannot happen: archived documents are never removed
                    subject, serial = prepared
                    if sequences.next_value(conn, subject.scope, subject.year) != serial:
                        raise _NumberTaken
                    document = _archive(conn, subject, serial, rendered, now)
                if then is not None:
                    then(conn)
                return document
        except _NumberTaken:
            continue
    with db.write() as conn:
        document = issue(conn, case_id=case_id, history_seq=history_seq, kind=kind, now=now)
        if then is not None:
            then(conn)
        return document


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
    return _get(conn, document_id)


def _get(conn: Connection, document_id: int) -> DocumentRow:
    found = repo.get(conn, document_id)
    if found is None:  # just inserted in this transaction
        raise LookupError(f"document {document_id} vanished")
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
