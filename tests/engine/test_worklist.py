"""我的待办 lists exactly the cases where the viewer can act now: checked against the engine, case by
case, on a simulated half-year of the two-lakes mechanism, for the office, the convenor, a department,
a district government and a procurator."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from db.models import Case
from db.repositories import case_queries
from db.session import Database
from engine.access import CaseAccess, Viewer
from engine.bootstrap import init_database
from engine.cases import Cases
from engine.clock import FixedClock
from engine.worklist import actionable
from workflows import ROOT

VIEWERS = [
    Viewer("user:1", "办公室", "two_lakes_office", "two_lakes", frozenset({"office", "office_head"}), office=True),
    Viewer("user:2", "召集人", "gy_gov", "two_lakes", frozenset({"convenor"})),
    Viewer("user:3", "贵阳市生态环境局", "gy_sthjj", "two_lakes", frozenset({"member"})),
    Viewer("user:4", "清镇市政府", "gy_qz_gov", "two_lakes", frozenset({"member"})),
    Viewer("user:5", "贵阳市检察院", "gy_jcy", "two_lakes", frozenset({"procurator", "chief_procurator"})),
]


@pytest.fixture(scope="module")
def half_year(backend, fresh_url):
    db = Database(fresh_url(backend))
    init_database(db, ROOT)
    spec = importlib.util.spec_from_file_location("simulation_two_lakes_worklist", ROOT / "two_lakes" / "simulation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    module.run(Cases(db, clock), clock, year=2026, seed=1, root=ROOT, until=datetime(2026, 6, 30).date())
    yield db, clock
    db.dispose()


@pytest.mark.parametrize("viewer", VIEWERS, ids=[v.unit for v in VIEWERS])
def test_my_work_is_every_case_where_i_can_act(half_year, viewer):
    db, clock = half_year
    cases = Cases(db, clock)
    access = CaseAccess(cases, viewer)
    with db.read() as conn:
        listed = {a.case_id: a for a in actionable(conn, access)}
        expected = {}
        for case_id in conn.execute(select(Case.id).where(~Case.closed)).scalars():
            record = case_queries.record(conn, case_id)
            if not access.visible(conn, record):
                continue
            events = cases.open_events_in(conn, record, viewer.actor_on(record.task_force_code))
            if events:
                expected[case_id] = tuple(events)
    assert set(listed) == set(expected)
    assert all(listed[c].events == expected[c] for c in expected)
    if viewer.office:
        assert len(expected) > 10  # the office decides a good deal in half a year
