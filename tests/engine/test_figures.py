"""Figures across cases declared as data: a yearly settlement computed from the monthly results of a
test mechanism (tests/fixtures/eco_fund), checked against a hand computation; one result per county
and month, refused in the database."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import Case, CaseKey
from documents import records
from engine.actors import Actor
from engine.cases import Cases
from engine.clock import FixedClock
from engine.errors import DuplicateCase, GuardFailed
from engine.figures import InContext
from engine.publishing import load_task_force
from tests import tx
from tests.conftest import FIXTURES

ECO = FIXTURES / "eco_fund"
OFFICE = Actor.of("eco-office", "e_office", "office", name="补偿办")
COUNTIES = ("e_a_gov", "e_b_gov", "e_c_gov")
# Monthly scores, January to December 2026.
SCORES = {
    "e_a_gov": [92, 88, 90, 95, 91, 89, 93, 90, 94, 87, 90, 91],
    "e_b_gov": [85.5] * 12,
    "e_c_gov": [70, 75, 80, 60, 65, 72, 78, 81, 55, 69, 73, 77],
}
FUND = 900000  # 元

# The hand computation.
# Year scores: 甲县 92+88+90+95+91+89+93+90+94+87+90+91 = 1090; 乙县 12 × 85.5 = 1026;
# 丙县 70+75+80+60+65+72+78+81+55+69+73+77 = 855; together 2971.
# Quotas of 900000.00 元: 甲 900000 × 1090/2971 = 330191.8545…, 乙 × 1026/2971 = 310804.4429…,
# 丙 × 855/2971 = 259003.7024… Rounded down to the fen: 330191.85 + 310804.44 + 259003.70 = 899999.99;
# the one fen left goes to the largest remainder (甲, 0.459 fen; 乙 0.295, 丙 0.246).
# (Rounding each share half up would give 330191.85 and miss the total by a fen.)
HAND_SCORES = {"e_a_gov": Decimal(1090), "e_b_gov": Decimal(1026), "e_c_gov": Decimal(855)}
HAND_SHARES = {"e_a_gov": Decimal("330191.86"), "e_b_gov": Decimal("310804.44"), "e_c_gov": Decimal("259003.70")}
# Mean of the 36 months: 2971 / 36 = 82.5277… → 82.53; one month of 36 below 60 (丙县, September):
# met 35/36 = 97.22…% → 97.2.


@pytest.fixture
def eco(db):
    clock = FixedClock(datetime(2027, 1, 5, 1, 0, tzinfo=UTC), step=timedelta(seconds=1))
    with db.write() as conn:
        load_task_force(conn, ECO, clock)
    return Cases(db, clock)


def _month(cases: Cases, county: str, month: str, score, **extra):
    return tx.start(cases, task_force="eco", workflow="monitoring", actor=OFFICE, title=f"{county} {month} 断面考核",
                    parties={"county": [county]},
                    payload={"month": month, "score": score, "met": score >= 60, **extra})


def _year(cases: Cases) -> list:
    return [_month(cases, county, f"2026-{m:02d}", score)
            for county in COUNTIES for m, score in enumerate(SCORES[county], 1)]


def _figures(cases: Cases, case, names=None):
    with cases.db.read() as conn:
        return cases.figures.evaluate(conn, "eco", names, InContext(case.id, "settlement", case.data, case.parties))


def test_the_settlement_figures_equal_the_hand_computation(eco):
    months = _year(eco)
    # December of the year before is outside the period; it must not count.
    tx.fire(eco, _month(eco, "e_a_gov", "2025-12", 100), "confirm", OFFICE)
    settlement = tx.start(eco, task_force="eco", workflow="settlement", actor=OFFICE, title="2026年度资金清算",
                          payload={"year": 2026, "fund": FUND})

    before = _figures(eco, settlement, ["months_open", "months_confirmed"])
    assert before == {"months_open": 36, "months_confirmed": 0}
    with pytest.raises(GuardFailed, match="尚有未确认"):
        tx.fire(eco, settlement, "settle", OFFICE)

    for case in months:
        tx.fire(eco, case, "confirm", OFFICE)
    got = _figures(eco, settlement)
    assert got["months_confirmed"] == 36 and got["months_open"] == 0
    assert got["year_scores"] == HAND_SCORES
    assert got["shares"] == HAND_SHARES
    assert sum(got["shares"].values()) == Decimal(FUND)
    assert got["reserve"] == 0
    assert got["mean_score"] == Decimal("82.53")
    assert got["best_month"] == 95 and got["worst_month"] == 55
    assert got["met_rate"] == Decimal("97.2")

    settled = tx.fire(eco, settlement, "settle", OFFICE)
    assert settled.state == "settled"
    recorded = {unit: Decimal(str(v)) for unit, v in settled.data["shares"].items()}
    assert recorded == HAND_SHARES and sum(recorded.values()) == Decimal(FUND)
    assert settled.data["year_scores"] == {"e_a_gov": 1090, "e_b_gov": 1026, "e_c_gov": 855}

    # The values are kept in the event's row: a replay (a document rebuilt later) reads the same shares
    # even after the months have changed, and the hash chain holds.
    tx.fire(eco, _month(eco, "e_a_gov", "2026-13", 100), "confirm", OFFICE)  # another "month" of 2026 counts now
    with eco.db.read() as conn:
        assert _figures(eco, settled, ["months_confirmed"]) == {"months_confirmed": 37}
        replayed = records.load(conn, settled.id)
    assert {u: Decimal(str(v)) for u, v in replayed.data["shares"].items()} == HAND_SHARES
    assert tx.verify(eco) == []


def test_task_force_figures_count_every_open_case(eco):
    a = _month(eco, "e_a_gov", "2026-01", 90)
    _month(eco, "e_b_gov", "2026-01", 80)
    with eco.db.read() as conn:
        assert eco.figures.evaluate(conn, "eco") == {"open_reports": 2,
                                                      "open_by_county": {"e_a_gov": 1, "e_b_gov": 1}}
    tx.fire(eco, a, "withdraw", OFFICE)
    with eco.db.read() as conn:
        table = eco.figures.table(conn, "eco")
    assert table == [{"name": "open_reports", "title": "待确认的月度考核（全专班）", "unit": "件", "value": 1},
                     {"name": "open_by_county", "title": "各县待确认", "unit": "件", "value": {"e_b_gov": 1}}]


def test_a_second_case_for_the_same_county_and_month_is_refused(eco):
    first = _month(eco, "e_a_gov", "2026-03", 90)
    _month(eco, "e_b_gov", "2026-03", 80)  # another county, same month: its own key
    _month(eco, "e_a_gov", "2026-04", 80)  # same county, another month
    with pytest.raises(DuplicateCase) as refused:
        _month(eco, "e_a_gov", "2026-03", 95)
    assert refused.value.existing == first.number
    assert first.number in refused.value.details["reason_zh"] and "不能重复创建" in refused.value.details["reason_zh"]
    with eco.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(Case.__table__)).scalar() == 3
        assert conn.execute(select(func.count()).select_from(CaseKey.__table__)).scalar() == 3
    # The month counted once: the settlement sees one March for 甲县.
    settlement = tx.start(eco, task_force="eco", workflow="settlement", actor=OFFICE, title="清算",
                          payload={"year": 2026, "fund": 100})
    assert _figures(eco, settlement, ["months_open"]) == {"months_open": 3}


def test_two_concurrent_creations_of_the_same_month_cannot_both_pass(eco):
    """The first creation holds its transaction open; the second waits on the key (PostgreSQL) or the
    writer's lock (SQLite), and is refused once the first commits."""
    started, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first():
        with eco.db.write() as conn:
            outcome["first"] = eco.start(conn, task_force="eco", workflow="monitoring", actor=OFFICE,
                                         title="甲县 2026-05", parties={"county": ["e_a_gov"]},
                                         payload={"month": "2026-05", "score": 90})
            started.set()
            release.wait(10)

    def second():
        started.wait(10)
        try:
            outcome["second"] = _month(eco, "e_a_gov", "2026-05", 91)
        except DuplicateCase as exc:
            outcome["second"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    started.wait(10)
    time.sleep(0.5)  # the second is now waiting
    release.set()
    for t in threads:
        t.join(20)
    assert isinstance(outcome["second"], DuplicateCase), outcome
    assert outcome["second"].existing == outcome["first"].number
    with eco.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(Case.__table__)).scalar() == 1


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "eco_fund"
    (folder / "definitions").mkdir(parents=True)
    for p in ECO.rglob("*.yaml"):
        (folder / p.relative_to(ECO)).write_text(p.read_text("utf-8"), "utf-8")
    text = (ECO / "figures.yaml").read_text("utf-8")
    assert old in text
    (folder / "figures.yaml").write_text(text.replace(old, new), "utf-8")
    return folder


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("count(year_reported)", "count(year_reportd)", "'year_reportd' is not one; selections: all_open, year_confirmed, year_reported"),
    ("shares(fund, year_scores)", "shares(fundd, year_scores)", "unknown name 'fundd'"),
    ("workflow: monitoring\n    state: reported", "workflow: monitorng\n    state: reported",
     "unknown workflow 'monitorng'; workflows: monitoring, settlement"),
    ("state: reported", "state: reportd", "monitoring has no state 'reportd'; states: confirmed, reported, withdrawn"),
    ('by="county"', 'by="counti"', "by='counti': not a party role of the cases of 'year_confirmed'; roles: county"),
    ("sum(year_confirmed, score,", "sum(year_confirmed, month,", "'month' is not a number field"),
    ("round(mean(", "round(__import__(", "unknown function '__import__'"),
    ("fund − sum(shares)", "fund.real", "is not allowed"),
    ("count(all_open)", "open_reports + 1", "figures depend on themselves: open_reports → open_reports"),
    ("count(all_open)", "count(year_confirmed)", "reads the case in context: give the figure `of: WORKFLOW`"),
    ("party:county", "party:countee", "monitoring has no party role 'countee'"),
    ("field:month", "field:mnth", "monitoring has no field 'mnth'"),
])
def test_every_name_is_resolved_at_load_with_its_line(tmp_path, old, new, problem):
    from engine.errors import DefinitionError
    from engine.publishing import read_task_force

    with pytest.raises(DefinitionError) as failed:
        read_task_force(_broken(tmp_path, old, new))
    assert problem in failed.value.problem
    assert failed.value.source.endswith("figures.yaml") and failed.value.line is not None


def test_a_guard_naming_an_unknown_figure_is_refused_at_load(tmp_path):
    from engine.errors import DefinitionError
    from engine.publishing import read_task_force

    folder = _broken(tmp_path, "count(all_open)", "count(all_open)")
    path = folder / "definitions" / "settlement.v1.yaml"
    path.write_text(path.read_text("utf-8").replace("name: months_open", "name: months_opn"), "utf-8")
    with pytest.raises(DefinitionError, match="unknown figure 'months_opn'; figures.yaml declares"):
        read_task_force(folder)


def test_selections_by_unit_and_by_the_day_a_case_was_opened(eco, tmp_path):
    folder = _broken(tmp_path, "figures:\n", """  county_a:
    workflow: monitoring
    party: {role: county, unit: e_a_gov}
  opened_2027: {workflow: monitoring, period: {field: "@created", in: 2027}}
  opened_2026: {workflow: monitoring, period: {field: "@created", in: 2026}}
  second_quarter: {workflow: monitoring, period: {field: month, in: 2026-Q2}}
figures:
  q2_months: count(second_quarter)
  a_months: count(county_a)
  a_score: sum(county_a, score)
  opened_this_year: count(opened_2027)
  opened_last_year: count(opened_2026)
""")
    with eco.db.write() as conn:
        load_task_force(conn, folder, eco.clock)
    for county, month, score in (("e_a_gov", "2026-01", 90), ("e_a_gov", "2026-02", 80.5), ("e_b_gov", "2026-01", 70),
                                 ("e_c_gov", "2026-04", 1), ("e_c_gov", "2026-06", 1), ("e_c_gov", "2026-07", 1)):
        _month(eco, county, month, score)
    with eco.db.read() as conn:
        got = Cases(eco.db, eco.clock).figures.evaluate(
            conn, "eco", ["a_months", "a_score", "opened_this_year", "opened_last_year", "q2_months"])
    # The clock reads 5 January 2027 (Beijing): every case was opened in 2027.
    assert got == {"a_months": 2, "a_score": Decimal("170.5"), "opened_this_year": 6, "opened_last_year": 0,
                   "q2_months": 2}


def test_periods_as_prefixes_and_windows():
    from engine.figures import _prefixes, _window

    assert _prefixes("2026") == ("2026",) and _prefixes("2026-Q2") == ("2026-04", "2026-05", "2026-06")
    since, until = _window("2026-Q4")
    assert (since.isoformat(), until.isoformat()) == ("2026-09-30T16:00:00+00:00", "2026-12-31T16:00:00+00:00")
    assert _window("2026-03")[1].isoformat() == "2026-03-31T16:00:00+00:00" and _window("nonsense") is None
