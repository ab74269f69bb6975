"""Each task force numbers its own cases: two mechanisms whose workflows share a prefix both have a
报送-2018-0001, and a number finds the case of the task force asking."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from db.models import Case
from db.repositories import cases as cases_repo
from engine.scheduler import schedule
from workflows import ROOT


def test_two_task_forces_sharing_a_prefix_number_their_cases_apart(cases, db):
    made = schedule(cases, ROOT, date(2018, 5, 1), date(2018, 5, 31), ["two_lakes", "chongchuan"])
    assert made > 0
    with db.read() as conn:
        # The number's year is the year the case is opened in (the clock's), its serial the task force's own.
        number = conn.execute(select(Case.number).where(Case.task_force_code == "chongchuan")
                              .order_by(Case.id)).scalars().first()
        assert number is not None and number.startswith("报送-") and number.endswith("-0001")
        rows = conn.execute(select(Case.task_force_code, Case.id).where(Case.number == number)).all()
        assert sorted(tf for tf, _ in rows) == ["chongchuan", "two_lakes"]
        for tf, case_id in rows:
            found = cases_repo.find_by_number(conn, number, tf)
            assert found is not None and found.id == case_id and found.task_force_code == tf
        assert cases_repo.find_by_number(conn, number, "xiangtan") is None
