"""start / fire / allowed_events / replay / verify on real databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text

from db.models import Case, CaseHistory, CaseParty, Deadline, OutboxItem, Sequence, Timer
from db.repositories import cases as repo
from engine.errors import BadPayload, GuardFailed, NotAllowed, NotFound, RoleNotHeld, StaleVersion
from tests import tx
from tests.conftest import BGOV, OFFICE, A, B


def open_ticket(cases, actor=A, **payload):
    return tx.start(cases, task_force="toy", workflow="ticket", actor=actor, title="排污口问题",
                    payload={"summary": "河道旁发现疑似排污口", **payload})


def snapshot(db):
    """Everything a refused event could have touched."""
    with db.read() as conn:
        rows = {}
        for model in (Case, CaseHistory, CaseParty, Sequence, OutboxItem, Deadline, Timer):
            t = model.__table__
            rows[t.name] = sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
        return rows


def test_start_records_creation_and_party(cases):
    case = open_ticket(cases)
    assert case.state == "open" and case.version == 1
    assert case.number == "工单-2026-0001"
    assert case.parties == {"owner": ["t_a_bureau"]}
    (row,) = tx.history(cases, case.id)
    assert (row.kind, row.event, row.from_state, row.to_state) == ("create", "create", None, "open")
    assert row.actor_unit == "t_a_bureau" and row.actor_role == "member"
    assert open_ticket(cases).number == "工单-2026-0002"


def test_fire_moves_state_and_chains_history(cases, db):
    case = open_ticket(cases)
    case = tx.fire(cases, case.id, "assign", A, {"handler": "t_b_bureau", "due": "2026-03-20"})
    assert case.state == "assigned" and case.version == 2
    assert case.parties["handler"] == ["t_b_bureau"]
    # Due at the end of 20 March in Asia/Shanghai, i.e. 15:59:59.999999 UTC.
    assert case.due_at.isoformat() == "2026-03-20T15:59:59.999999+00:00"
    case = tx.fire(cases, case, "start", B)
    case = tx.fire(cases, case, "finish", B, {"result": "已封堵", "hours": 3})
    case = tx.fire(cases, case, "close", A)
    assert case.state == "closed" and case.closed and case.due_at is None
    rows = tx.history(cases, case.id)
    assert [r.event for r in rows] == ["create", "assign", "start", "finish", "close"]
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))
    assert rows[-1].hash == tx.load(cases, case.id).head_hash
    assert rows[1].payload == {"handler": "t_b_bureau", "due": "2026-03-20"}
    assert tx.replay(cases, case.id) == "closed"
    assert tx.verify(cases) == []
    with db.read() as conn:
        parties = conn.execute(select(CaseParty.role, CaseParty.unit_code).where(CaseParty.case_id == case.id)).all()
    assert sorted(parties) == [("handler", "t_b_bureau"), ("owner", "t_a_bureau")]


def test_allowed_events_depend_on_state_and_role(cases):
    case = open_ticket(cases)
    assert tx.allowed_events(cases, case.id, A) == ["assign", "note"]
    assert tx.allowed_events(cases, case.id, OFFICE) == ["assign", "note", "freeze"]
    assert tx.allowed_events(cases, case.id, B) == []
    case = tx.fire(cases, case, "assign", A, {"handler": "t_b_bureau"})
    assert tx.allowed_events(cases, case.id, B) == ["start", "note"]


@pytest.mark.parametrize(
    ("actor", "event", "payload", "error", "check"),
    [
        (A, "finish", {"result": "x"}, NotAllowed, lambda e: e.allowed == ["assign", "note"] and e.state == "open"),
        (B, "assign", {"handler": "t_b_gov"}, NotAllowed, lambda e: e.allowed == []),
        (BGOV, "note", {"text": "x"}, RoleNotHeld, lambda e: "owner" in e.details["needed_roles"]),
        (A, "assign", {}, BadPayload, lambda e: e.field == "handler"),
        (A, "assign", {"handler": "t_b_bureau", "colour": "red"}, BadPayload, lambda e: e.field == "colour"),
        (A, "assign", {"handler": "t_b_bureau", "due": "not a date"}, BadPayload, lambda e: e.field == "due"),
        (A, "assign", {"handler": "nowhere"}, BadPayload, lambda e: "unknown unit" in e.reason),
        (A, "note", {"text": "   "}, BadPayload, lambda e: e.field == "text"),
        (A, "assign", {"handler": "t_a_bureau"}, GuardFailed, lambda e: e.guard == "field_not_party"),
        (A, "launch", {}, NotAllowed, lambda e: e.allowed == ["assign", "note"]),
    ],
)
def test_refused_events_write_nothing(cases, db, actor, event, payload, error, check):
    case = open_ticket(cases)
    before = snapshot(db)
    with pytest.raises(error) as info:
        tx.fire(cases, case.id, event, actor, payload)
    assert check(info.value), info.value
    assert snapshot(db) == before


def test_guard_on_case_data_and_actor(cases, db):
    case = open_ticket(cases)
    case = tx.fire(cases, case, "assign", A, {"handler": "t_b_bureau"})
    case = tx.fire(cases, case, "start", B)
    case = tx.fire(cases, case, "finish", B, {"result": "done"})
    case = tx.fire(cases, case, "freeze", OFFICE)
    assert case.state == "done" and case.data["frozen"] is True
    before = snapshot(db)
    with pytest.raises(GuardFailed) as info:
        tx.fire(cases, case.id, "close", A)
    assert info.value.guard == "flag_unset" and "frozen" in info.value.reason
    assert snapshot(db) == before


def test_stale_version_is_refused_and_names_current_state(cases, db):
    case = open_ticket(cases)
    tx.fire(cases, case, "assign", A, {"handler": "t_b_bureau"})
    before = snapshot(db)
    with pytest.raises(StaleVersion) as info:
        tx.fire(cases, case, "note", A, {"text": "old view"})  # `case` is the version-1 snapshot
    assert (info.value.current_version, info.value.state) == (2, "assigned")
    with pytest.raises(StaleVersion):
        tx.fire(cases, case.id, "note", A, {"text": "x"}, expected_version=1)
    assert snapshot(db) == before


def test_not_found(cases):
    with pytest.raises(NotFound):
        tx.fire(cases, 999_999, "note", A, {"text": "x"})
    with pytest.raises(NotFound):
        tx.start(cases, task_force="toy", workflow="nothing", actor=A, title="x")


def test_start_refusals(cases, db):
    before = snapshot(db)
    with pytest.raises(RoleNotHeld):
        tx.start(cases, task_force="toy", workflow="ticket", actor=type(A)("x", "t_a_bureau", frozenset()), title="t",
                 payload={"summary": "s"})
    with pytest.raises(BadPayload) as info:
        tx.start(cases, task_force="toy", workflow="ticket", actor=A, title="t", payload={})
    assert info.value.field == "summary"
    with pytest.raises(BadPayload):
        tx.start(cases, task_force="toy", workflow="ticket", actor=A, title="t", payload={"summary": "s"},
                 parties={"judge": ["t_b_gov"]})
    assert snapshot(db) == before


def test_crash_mid_transition_leaves_nothing_half_written(cases, db, monkeypatch):
    case = open_ticket(cases)
    before = snapshot(db)

    def crash(*_a, **_k):
        raise RuntimeError("power cut after the state update")

    # The case row is updated first, then the history row: fail between the two.
    monkeypatch.setattr(repo, "append_history", crash)
    with pytest.raises(RuntimeError):
        tx.fire(cases, case.id, "assign", A, {"handler": "t_b_bureau"})
    monkeypatch.undo()
    assert snapshot(db) == before
    assert tx.fire(cases, case.id, "assign", A, {"handler": "t_b_bureau"}).version == 2


def test_crash_between_the_move_and_its_history_row_on_the_hot_path(cases, db, monkeypatch):
    """`note` takes the hot path (the move and the row through one cached cursor; on PostgreSQL one
    statement): a failing history insert leaves nothing, and the cursor serves the next event."""
    case = open_ticket(cases)
    before = snapshot(db)
    sql = repo._DRIVER[db.engine.dialect.name]
    monkeypatch.setattr(sql, "insert", sql.insert.replace("INTO case_history", "INTO no_such_table"))
    monkeypatch.setattr(sql, "advance_and_insert", sql.advance_and_insert.replace("INTO case_history",
                                                                                   "INTO no_such_table"))
    with pytest.raises(db.engine.dialect.loaded_dbapi.Error, match="no_such_table"):
        tx.fire(cases, case.id, "note", A, {"text": "断电前"})
    monkeypatch.undo()
    assert snapshot(db) == before
    assert tx.fire(cases, case.id, "note", A, {"text": "恢复后"}).version == 2
    assert tx.verify(cases) == []


def test_verify_detects_tampering(cases, db):
    case = open_ticket(cases)
    tx.fire(cases, case, "note", A, {"text": "原始记录"})
    assert tx.verify(cases) == []
    with db.write() as conn:
        conn.execute(text("UPDATE case_history SET payload = :p WHERE case_id = :c AND seq = 2"),
                     {"p": '{"text": "篡改"}', "c": case.id})
    problems = tx.verify(cases)
    assert len(problems) == 1 and "hash chain broken at row 2" in problems[0]
    with db.write() as conn:
        conn.execute(text("UPDATE cases SET state = 'done' WHERE id = :c"), {"c": case.id})
    assert any("replays to 'open'" in p for p in tx.verify(cases))


def test_history_count_matches_versions(cases, db):
    case = open_ticket(cases)
    for i in range(5):
        case = tx.fire(cases, case, "note", A, {"text": f"第{i}次"})
    with db.read() as conn:
        n = conn.execute(select(func.count()).select_from(CaseHistory).where(CaseHistory.case_id == case.id)).scalar()
    assert n == case.version == 6
    assert date.fromisoformat("2026-03-02") <= tx.history(cases, case.id)[-1].at.date()


def test_documents_are_queued_in_the_event_transaction(cases, db, monkeypatch):
    case = open_ticket(cases)
    case = tx.fire(cases, case, "assign", A, {"handler": "t_b_bureau"})
    case = tx.fire(cases, case, "start", B)

    def outbox_rows():
        with db.read() as conn:
            return conn.execute(select(OutboxItem.topic, OutboxItem.case_id, OutboxItem.history_seq,
                                       OutboxItem.payload, OutboxItem.status)).all()

    monkeypatch.setattr(repo, "append_history", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        tx.fire(cases, case.id, "finish", B, {"result": "done"})
    monkeypatch.undo()
    assert outbox_rows() == []
    case = tx.fire(cases, case, "finish", B, {"result": "done"})
    assert outbox_rows() == [("document", case.id, case.version, {"kind": "receipt"}, "pending")]
