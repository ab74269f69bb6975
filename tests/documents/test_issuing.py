"""Issuing: gap-free numbers under concurrency, retries that are recorded, one document per row."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from api.cli import app as cli
from db.models import Document, OutboxItem, Sequence
from db.repositories import outbox
from db.session import Database
from documents import contexts, issuing, records, render
from documents.outbox import BACKOFF, process_pending
from tests import tx
from tests.conftest import A, B
from tests.documents import scenarios


def outbox_rows(db):
    with db.read() as conn:
        return conn.execute(select(OutboxItem.id, OutboxItem.status, OutboxItem.attempts, OutboxItem.last_error,
                                   OutboxItem.available_at).order_by(OutboxItem.id)).all()


def numbers(db) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(Document.number).order_by(Document.issuer, Document.serial)).scalars())


@pytest.fixture
def fake_render(monkeypatch):
    """A render that takes a while (widening any race) and returns small, distinct bytes."""
    calls: list[str] = []

    def slow(template, context):
        calls.append(context["doc_number"])
        time.sleep(0.05)
        return f"%PDF-1.7 {template} {context['doc_number']}".encode()

    monkeypatch.setattr(render, "render_pdf", slow)
    return calls


def test_concurrent_issuers_never_share_a_number(db, cases, clock, fake_render):
    case = scenarios.rectification(cases, problems=1)
    for level in ["blue", "yellow", "red"] * 3:
        case = scenarios.supervise(cases, case, level)
    # Separate engines, as separate worker processes would have (on SQLite: separate writer locks).
    workers = [Database(db.url.render_as_string(hide_password=False)) for _ in range(3)]
    start = threading.Barrier(len(workers))
    results: list = [None] * len(workers)

    def run(i: int) -> None:
        start.wait()
        results[i] = process_pending(workers[i], clock, limit=20)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for w in workers:
            w.dispose()
    issued = [doc for r in results for _, doc in r.issued]
    assert sum(len(r.failed) for r in results) == 0
    assert len(issued) == len(set(issued)) == 10
    assert numbers(db) == ["联动专班办〔2026〕1号"] + [f"联动专班办督〔2026〕{n}号" for n in range(1, 10)]
    # Workers render with the number they expect; one that lost the race renders again. Whatever
    # happened, each archived document carries its own number.
    with db.read() as conn:
        archived = conn.execute(select(Document.number, Document.content)).all()
    assert all(bytes(content).endswith(f" {number}".encode()) for number, content in archived)
    assert set(fake_render) >= set(numbers(db))
    assert {row.status for row in outbox_rows(db)} == {"done"}


def test_a_lost_race_for_a_number_renders_again(db, cases, clock, monkeypatch):
    case = scenarios.rectification(cases, problems=1)
    process_pending(db, clock)
    case = scenarios.supervise(cases, case, "blue")
    case = scenarios.supervise(cases, case, "yellow")
    rendered: list[str] = []

    def racing(template, context):
        rendered.append(context["doc_number"])
        if len(rendered) == 1:
            # While the blue notice renders as 督〔2026〕1号, another issuer takes that number.
            with db.write() as conn:
                issuing.issue(conn, case_id=case.id, history_seq=case.version, kind="supervision_notice",
                              now=clock.now())
        return f"%PDF-1.7 {context['title']} {context['doc_number']}".encode()

    monkeypatch.setattr(render, "render_pdf", racing)
    outcome = process_pending(db, clock)
    assert len(outcome.issued) == 2 and outcome.failed == ()
    assert rendered == ["联动专班办督〔2026〕1号", "联动专班办督〔2026〕1号", "联动专班办督〔2026〕2号"]
    with db.read() as conn:
        archived = dict(conn.execute(select(Document.title, Document.content).where(
            Document.kind == "supervision_notice")).all())
    assert {t: bytes(c) for t, c in archived.items()} == {
        "黄色督办单": "%PDF-1.7 黄色督办单 联动专班办督〔2026〕1号".encode(),
        "蓝色督办单": "%PDF-1.7 蓝色督办单 联动专班办督〔2026〕2号".encode()}


def test_events_do_not_wait_for_a_render(db, cases, clock, monkeypatch):
    """The render runs outside any write transaction: an event fired meanwhile commits at once."""
    case = scenarios.rectification(cases, problems=1)
    other = scenarios.rectification(cases, problems=1)
    process_pending(db, clock)
    case = scenarios.circulate(cases, case)
    fired = []

    def render_while_firing(template, context):
        with ThreadPoolExecutor(1) as pool:
            fired.append(pool.submit(tx.fire, cases, other.id, "close", scenarios.OFFICE).result(timeout=5))
        return f"%PDF-1.7 {context['doc_number']}".encode()

    monkeypatch.setattr(render, "render_pdf", render_while_firing)
    assert len(process_pending(db, clock).issued) == 1
    assert fired[0].state == "closed"


def test_failed_render_is_retried_and_recorded_without_losing_a_number(db, cases, clock, monkeypatch):
    case = scenarios.rectification(cases, problems=1)
    assert process_pending(db, clock).failed == ()
    case = scenarios.circulate(cases, case)
    real = render.render_pdf
    failures = iter([RuntimeError("字体服务暂不可用")])

    def flaky(template, context):
        for exc in failures:
            raise exc
        return real(template, context)

    monkeypatch.setattr(render, "render_pdf", flaky)
    first = process_pending(db, clock)
    assert first.issued == () and len(first.failed) == 1
    (_, _, _, _, _), (item_id, status, attempts, error, available_at) = outbox_rows(db)
    assert (status, attempts) == ("pending", 1) and "RuntimeError: 字体服务暂不可用" in error
    assert available_at > clock.now()
    assert numbers(db) == ["联动专班办〔2026〕1号"]
    # Not due yet: nothing happens; once the backoff has passed it is issued with the next number.
    assert process_pending(db, clock) == type(first)((), ())
    clock.advance(BACKOFF)
    second = process_pending(db, clock)
    assert [item for item, _ in second.issued] == [item_id] and second.failed == ()
    assert numbers(db) == ["联动专班办〔2026〕1号", "联动专班办〔2026〕2号"]
    assert outbox_rows(db)[-1][1:4] == ("done", 2, None)


def test_a_kind_that_keeps_failing_is_kept_as_failed_and_the_event_stands(db, cases, clock):
    ticket = tx.start(cases, task_force="toy", workflow="ticket", actor=A, title="工单", payload={"summary": "测试"})
    ticket = tx.fire(cases, ticket, "assign", A, {"handler": "t_b_bureau"})
    ticket = tx.fire(cases, ticket, "start", B)
    ticket = tx.fire(cases, ticket, "finish", B, {"result": "完成"})  # issues "receipt", which has no builder
    assert ticket.state == "done"
    for _ in range(3):
        outcome = process_pending(db, clock, max_attempts=3)
        assert outcome.issued == () and len(outcome.failed) == 1
        clock.advance(BACKOFF * 3)
    (_, status, attempts, error, _), = outbox_rows(db)
    assert (status, attempts) == ("failed", 3) and "no builder for document kind 'receipt'" in error
    assert process_pending(db, clock) == type(outcome)((), ())
    assert tx.load(cases, ticket.id).state == "done"
    with db.read() as conn:
        assert conn.execute(select(Sequence.scope)).scalars().all() == ["case:toy:工单"]


def test_an_item_queued_twice_issues_one_document(db, cases, clock, fake_render):
    scenarios.rectification(cases, problems=1)
    (_, first), = process_pending(db, clock).issued
    row, _ = issuing.fetch(db, first)
    with db.write() as conn:
        outbox.enqueue(conn, [("document", row.case_id, row.history_seq, {"kind": row.kind})], clock.now())
    (_, again), = process_pending(db, clock).issued
    assert again == first and numbers(db) == ["联动专班办〔2026〕1号"] and len(fake_render) == 1


def test_numbers_follow_the_year_of_the_document_date(db, cases, clock, fake_render):
    # 23:59 on 31 December in Beijing is still 2026; a minute later it is 2027.
    clock.set(datetime(2026, 12, 31, 15, 58, tzinfo=UTC))
    case = scenarios.rectification(cases, problems=1)
    case = scenarios.supervise(cases, case, "blue")
    clock.set(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    scenarios.supervise(cases, case, "yellow")
    process_pending(db, clock)
    assert numbers(db) == ["联动专班办〔2026〕1号", "联动专班办督〔2026〕1号", "联动专班办督〔2027〕1号"]


def test_fetching_returns_the_archived_bytes_and_detects_tampering(db, cases, clock):
    case = scenarios.rectification(cases, problems=1)
    case = scenarios.circulate(cases, case)
    issued = dict(process_pending(db, clock).issued)
    row, pdf = issuing.fetch(db, max(issued.values()))
    assert row.kind == "circular_notice" and row.template_version == render.TEMPLATE_VERSION["notice"]
    assert row.size == len(pdf) and issuing.fetch(db, row.id) == (row, pdf)
    # A document is a pure function of the recorded case: rendering it again gives the same bytes.
    with db.read() as conn:
        record = records.load(conn, row.case_id, row.history_seq)
    context = contexts.build(row.kind, record, contexts.Issue(row.number, record.issued_on))
    assert render.render_pdf("notice", context) == pdf
    with db.write() as conn:
        conn.execute(update(Document).where(Document.id == row.id).values(content=pdf + b"% appended later\n"))
    with pytest.raises(issuing.ArchiveCorrupted):
        issuing.fetch(db, row.id)
    assert issuing.fetch(db, 10**9) is None


def test_render_pending_command(db, cases, clock, fake_render):
    scenarios.rectification(cases, problems=1)
    url = db.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["render-pending", "--database-url", url, "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "1 issued, 0 failed" in result.output
    assert numbers(db) == ["联动专班办〔2026〕1号"]
