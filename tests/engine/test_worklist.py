"""我的待办 lists exactly the cases where the viewer can act now: checked against the engine, case by
case, on the simulated two-lakes year (tests/conftest.py `simulated_two_lakes`), for the office, the convenor, a department,
a district government and a procurator."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Case
from db.repositories import case_queries
from engine.access import CaseAccess, Viewer
from engine.awaited import optional_events
from engine.cases import Cases
from engine.worklist import actionable

VIEWERS = [
    Viewer("user:1", "办公室", "two_lakes_office", "two_lakes", frozenset({"office", "office_head"}), office=True),
    Viewer("user:2", "召集人", "gy_gov", "two_lakes", frozenset({"convenor"})),
    Viewer("user:3", "贵阳市生态环境局", "gy_sthjj", "two_lakes", frozenset({"member"})),
    Viewer("user:4", "清镇市政府", "gy_qz_gov", "two_lakes", frozenset({"member"})),
    Viewer("user:5", "贵阳市检察院", "gy_jcy", "two_lakes", frozenset({"procurator", "chief_procurator"})),
]


@pytest.mark.parametrize("viewer", VIEWERS, ids=[v.unit for v in VIEWERS])
def test_my_work_is_every_case_where_i_can_act(simulated_two_lakes, viewer):
    db, clock = simulated_two_lakes
    cases = Cases(db, clock)
    access = CaseAccess(cases, viewer)
    with db.read() as conn:
        listed = {a.case_id: a for a in actionable(conn, access)}
        expected = {}
        for case_id in conn.execute(select(Case.id).where(~Case.closed)).scalars():
            record = case_queries.record(conn, case_id)
            if not access.visible(conn, record):
                continue
            # Awaited only: the events worklist.yaml calls optional put no case on the list, unless I owe its due date.
            optional = optional_events(conn, record.task_force_code).get(record.workflow, frozenset())
            events = cases.open_events(conn, record, viewer.actor_on(record.task_force_code))
            if viewer.unit not in record.parties.get(record.due_role or "", ()):  # unless my unit owes the due
                events = [e for e in events if e not in optional]
            if events:
                expected[case_id] = tuple(events)
    assert set(listed) == set(expected)
    assert all(listed[c].events == expected[c] for c in expected)
    if viewer.office:
        # At 30 June the office is awaited on an acknowledgement, a fund decision and a transfer proposal (meetings
        # wait for their time — not_before — and optional events such as 回头看 are aside).
        assert len(expected) >= 3
