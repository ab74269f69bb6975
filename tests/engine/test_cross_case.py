"""Effects that reach other cases: spawn linked cases from a list of records, link to a case named
in the payload, fire an event on it. Each link is one row and a note in both histories; a refusal
writes nothing anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import CaseLink, Deadline
from engine.errors import BadPayload, DefinitionError, GuardFailed
from engine.loader import load_definition
from engine.publishing import _check_cross
from engine.views import links
from tests import tx
from tests.conftest import OFFICE, A, B, end_of

TASKS = [
    {"text": "清理沿岸垃圾", "unit": "t_b_bureau", "helpers": ["t_b_gov"], "due": "2026-03-31", "mine": False},
    {"text": "补设隔离网", "unit": "t_b_gov", "mine": False},
    {"text": "本单位自行整改", "unit": "t_a_bureau", "mine": True},
]


def batch(cases, kind="small", **payload):
    return tx.start(cases, task_force="toy", workflow="batch", actor=A, title="批次", payload={"kind": kind, **payload})


def linked(db, case_id):
    with db.read() as conn:
        return links(conn, case_id)


def link_rows(db):
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(select(CaseLink.from_case_id, CaseLink.to_case_id, CaseLink.kind)
                                               .order_by(CaseLink.id))]


def test_spawn_opens_one_linked_case_per_record(cases, db):
    parent = batch(cases, due="2026-04-30")
    parent = tx.fire(cases, parent.id, "issue", A, {"tasks": TASKS})
    assert parent.state == "issued" and parent.data["tasks"][0]["helpers"] == ["t_b_gov"]
    found = linked(db, parent.id)
    assert [(d, k) for d, k, _, _ in found] == [("to", "task"), ("to", "task"), ("to", "own_task")]
    first, second, own = (tx.load(cases, other) for _, _, other, _ in found)
    assert first.title == "清理沿岸垃圾" and first.state == "todo"
    assert first.parties == {"origin": ["t_a_bureau"], "doer": ["t_b_bureau"], "helper": ["t_b_gov"]}
    assert first.data == {"due": "2026-03-31", "note": "清理沿岸垃圾", "source": parent.number, "kind": "outside"}
    assert first.due_at == end_of(2026, 3, 31)
    # No due in the record (the batch's own due date is not borrowed): the definition's default of
    # 5 working days from Monday 2 March.
    assert second.parties["doer"] == ["t_b_gov"] and second.due_at == end_of(2026, 3, 9)
    # `@actor`: the unit that fired the event.
    assert own.parties == {"doer": ["t_a_bureau"]}
    # The parent's history: its event, then one note per link; each child: created, then linked.
    rows = tx.history(cases, parent.id)
    assert [(r.kind, r.event) for r in rows] == [("create", "create"), ("event", "issue")] + [("note", "linked")] * 3
    assert rows[2].payload == {"kind": "task", "to": first.number, "by": "issue"}
    child = tx.history(cases, first.id)
    assert [(r.kind, r.event, r.actor_id) for r in child] == [("create", "create", "system"),
                                                             ("note", "linked", "a-1")]
    assert child[1].payload == {"kind": "task", "from": parent.number, "by": "issue"}
    assert tx.load(cases, parent.id).version == 5
    assert tx.verify(cases) == []


def test_a_case_waits_for_the_cases_it_opened(cases):
    parent = tx.fire(cases, batch(cases).id, "issue", A, {"tasks": TASKS[:1]})
    with pytest.raises(GuardFailed, match="still open"):
        tx.fire(cases, parent.id, "close", A)
    (_, _, child, _), = linked(cases.db, parent.id)
    tx.fire(cases, child, "finish", B)
    assert tx.fire(cases, parent.id, "close", A).state == "closed"


def test_link_and_fire_on_a_named_case(cases, db):
    parent = tx.fire(cases, batch(cases).id, "issue", A, {"tasks": TASKS[:1]})
    (_, _, child_id, number), = linked(db, parent.id)
    parent = tx.fire(cases, parent.id, "poke", OFFICE, {"chore": number, "note": "请加快"})
    child = tx.load(cases, child_id)
    assert child.data["nudges"] == 1
    rows = tx.history(cases, child_id)
    assert [(r.kind, r.event) for r in rows[-3:]] == [("note", "linked"), ("note", "linked"), ("event", "nudge")]
    assert rows[-1].actor_id == "system" and rows[-1].payload == {"note": "请加快", "from_case": parent.number}
    assert [k for _, _, k in link_rows(db)] == ["task", "poked"]
    assert [r.event for r in tx.history(cases, parent.id)][-2:] == ["poke", "linked"]
    assert tx.verify(cases) == []


@pytest.mark.parametrize(("chore", "message"), [
    ("事项-2026-9999", "no other case 事项-2026-9999"),
    ("self", "no other case"),
    ("batch", "is a batch case, not chore"),
    ("done", "cannot take 'nudge' in state 'done'"),
])
def test_a_bad_case_reference_is_refused_and_nothing_is_written(cases, db, chore, message):
    parent = tx.fire(cases, batch(cases).id, "issue", A, {"tasks": TASKS[:1]})
    (_, _, child_id, child_number), = linked(db, parent.id)
    other = batch(cases)
    if chore == "done":
        tx.fire(cases, child_id, "finish", B)
    number = {"self": parent.number, "batch": other.number, "done": child_number}.get(chore, chore)
    before = (tx.load(cases, parent.id).version, tx.load(cases, child_id).version, link_rows(db))
    with pytest.raises(GuardFailed, match=message):
        tx.fire(cases, parent.id, "poke", OFFICE, {"chore": number})
    assert (tx.load(cases, parent.id).version, tx.load(cases, child_id).version, link_rows(db)) == before


def test_a_case_can_link_when_it_is_opened(cases, db):
    first = batch(cases)
    second = batch(cases, related=first.number)
    assert link_rows(db) == [(second.id, first.id, "related")]
    assert [r.event for r in tx.history(cases, second.id)] == ["create", "linked"]
    assert tx.history(cases, first.id)[-1].payload == {"kind": "related", "from": second.number, "by": "create"}
    with pytest.raises(GuardFailed, match="no other case"):
        batch(cases, related="批次-2026-0404")
    assert len(link_rows(db)) == 1


def test_records_are_checked_field_by_field(cases):
    parent = batch(cases)
    with pytest.raises(BadPayload) as info:
        tx.fire(cases, parent.id, "issue", A, {"tasks": [{"text": "", "unit": "t_b_bureau", "mine": False}]})
    assert info.value.field == "tasks.0.text"
    with pytest.raises(BadPayload) as info:
        tx.fire(cases, parent.id, "issue", A, {"tasks": [TASKS[0], {"text": "x", "unit": "nowhere", "mine": False}]})
    assert info.value.field == "tasks.1.unit" and "unknown unit nowhere" in info.value.reason
    with pytest.raises(BadPayload) as info:
        tx.fire(cases, parent.id, "issue", A, {"tasks": TASKS, "sectors": ["水务", "林业"]})
    assert info.value.field.startswith("sectors")
    assert tx.load(cases, parent.id).version == 1


def test_a_clock_can_start_at_a_moment_given_with_the_case(cases, db):
    seen = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    chore = tx.start(cases, task_force="toy", workflow="chore", actor=OFFICE, title="异常",
                     payload={"seen_at": seen.isoformat()}, parties={"doer": ["t_b_bureau"]})
    with db.read() as conn:
        due = conn.execute(select(Deadline.due_at).where(Deadline.case_id == chore.id,
                                                         Deadline.name == "alarm")).scalar_one()
    assert due == seen + timedelta(hours=2)


def test_effects_on_other_cases_are_kept_apart_from_replayable_ones(cases):
    with cases.db.read() as conn:
        m = cases.machine(conn, tx.load(cases, batch(cases).id).definition_id)
    issue = m.events["issue"]
    assert [n.name for n, _ in issue.effects] == ["record"]
    assert [n.name for n, _ in issue.cross] == ["spawn", "spawn"]
    assert [n.name for n, _ in m.create_effects] == ["actor_as_party"]
    assert [n.name for n, _ in m.create_cross] == ["link_case"]


PARENT = """\
name: p
version: 1
roles: {office: {kind: org}, owner: {kind: party}}
create: {roles: [office]}
states: [{name: a, initial: true}]
events:
  - name: go
    from: a
    roles: [office]
    fields: {n: {type: string}}
    effects: [{EFFECT}]
"""


@pytest.mark.parametrize(("effect", "message"), [
    ("spawn: {workflow: nowhere, link: x}", "names unknown workflow 'nowhere'"),
    ("spawn: {workflow: ticket, link: x}", "the system may not create"),
    ("spawn: {workflow: chore, link: x, fields: {colour: n}}", "'colour', which is not a create field of 'chore'"),
    ("spawn: {workflow: chore, link: x, parties: {judge: n}}", "party role 'judge'"),
    ("spawn: {workflow: chore, link: x, inherit: {doer: office}}", "'office', which is not a party role here"),
    ("fire_case: {field: n, workflow: chore, event: finish}", "an event 'finish' the clock may fire"),
    ("fire_case: {field: n, workflow: chore, event: nudge, payload: {x: n}}", "'x', which is not a field"),
])
def test_references_to_other_workflows_are_checked_when_loading(effect, message):
    from pathlib import Path

    from engine.publishing import read_task_force

    toy = {d.name: d for d in read_task_force(Path(__file__).parent.parent / "fixtures" / "toy").definitions}
    d = load_definition(PARENT.replace("EFFECT", effect), "p.yaml")
    with pytest.raises(DefinitionError, match=message):
        _check_cross(d, toy)
