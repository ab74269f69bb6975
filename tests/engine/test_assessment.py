"""The two-lakes 考核细则 (the `assessment:` section of workflows/two_lakes/figures.yaml) on a simulated
half-year, against a table counted by hand; and every name of the rules resolved at load."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import and_, select

from db.models import Case, CaseHistory, CaseParty, Deadline, Definition
from engine.assessment import Tally, assess, behind, score_unit
from engine.cases import Cases
from engine.errors import DefinitionError
from engine.localtime import start_of_local_day
from engine.publishing import read_task_force
from workflows import ROOT

TF = "two_lakes"
START, END = start_of_local_day(datetime(2026, 1, 1).date()), start_of_local_day(datetime(2027, 1, 1).date())
REFERRED = ("referred", "objected", "accepted", "in_progress", "extension_pending", "result_reported",
            "coordinating", "escalated", "referred_up", "closed")
CARDS = ("yellow", "red", "circular", "summons", "transfer")
COLUMNS = ("late", "missed_report", *CARDS, "on_time", "referrals")

# Counted by hand from the simulated year (seed 1, 1 January – 30 June 2026), by the SQL in `_counted`:
#                late  missed_report  yellow red circular summons transfer  on_time  referrals
HAND = {
    "as_xx_gov": (2, 1, 3, 2, 2, 2, 0, 2, 0),  # 西秀区政府: the ladder climbed to 约谈 twice
    "gy_qz_gov": (1, 0, 1, 0, 0, 0, 0, 7, 0),  # 清镇市政府: one yellow card
    "gy_nyncj": (0, 0, 0, 0, 0, 0, 0, 6, 1),  # 贵阳市农业农村局: referred a problem
}
# Each score by hand: 100 − min(late, 20) − min(missed_report, 10) − 2·yellow − 4·red − 6·circular − 8·summons
# − 10·transfer + min(min(0.1·on_time, 3) + min(0.5·referrals, 3), 5), at least 0.
SCORES = {
    "as_xx_gov": Decimal("55.2"),  # 100 − (2 + 1 + 6 + 8 + 12 + 16) + 0.2
    "gy_qz_gov": Decimal("97.7"),  # 100 − (1 + 2) + 0.7
    "gy_nyncj": Decimal("101.1"),  # 100 + 0.6 + 0.5
}
# 当前逾期 on 30 June: open and past due now, against the unit leading the due role.
OVERDUE_NOW = {"as_xx_gov": 3, "gy_qz_gov": 0, "gy_nyncj": 0}


def _counted(conn, unit: str) -> tuple[int, ...]:
    """The unit's counts read straight from the tables, without the engine's assessment code."""
    c, d, p, dl, h = (Case.__table__, Definition.__table__, CaseParty.__table__, Deadline.__table__,
                      CaseHistory.__table__)
    late = missed = met = 0
    for workflow, status, stopped, due, rule in conn.execute(
            select(d.c.name, dl.c.status, dl.c.stopped_at, dl.c.due_at, dl.c.rule)
            .select_from(dl.join(c, c.c.id == dl.c.case_id).join(d, d.c.id == c.c.definition_id)
                         .join(p, and_(p.c.case_id == dl.c.case_id, p.c.role == dl.c.owner_role)))
            .where(c.c.task_force_code == TF, p.c.unit_code == unit)):
        if not rule.get("assessed", True):
            continue
        in_year = stopped is not None and START <= stopped < END
        if status == "met" and in_year:
            met += 1
        elif (status == "late" and in_year) or (status == "expired" and START <= due < END):
            if workflow == "duty_report":
                missed += 1
            else:
                late += 1
    marked = {}
    for def_id, spec in conn.execute(select(d.c.id, d.c.spec).where(d.c.task_force_code == TF)):
        for e in spec.get("events") or []:
            if e.get("card"):
                marked[(def_id, e["name"])] = (e["card"]["kind"], e["card"]["against"])
    cards = dict.fromkeys(CARDS, 0)
    for def_id, event, role, at in conn.execute(
            select(c.c.definition_id, h.c.event, p.c.role, h.c.at)
            .select_from(h.join(c, c.c.id == h.c.case_id).join(p, p.c.case_id == h.c.case_id))
            .where(c.c.task_force_code == TF, h.c.kind == "event", p.c.unit_code == unit)):
        kind, against = marked.get((def_id, event), (None, None))
        if kind and role == against and START <= at < END:
            cards[kind] += 1
    referrals = len(set(conn.execute(
        select(c.c.id).select_from(c.join(d, d.c.id == c.c.definition_id).join(p, p.c.case_id == c.c.id))
        .where(c.c.task_force_code == TF, d.c.name == "referral", c.c.state.in_(REFERRED), p.c.role == "referrer",
               p.c.unit_code == unit, c.c.created_at >= START, c.c.created_at < END)).scalars()))
    return (late, missed, *cards.values(), met, referrals)


def _overdue_now(conn, unit: str, now: datetime) -> int:
    c = Case.__table__
    return len(conn.execute(select(c.c.id).where(c.c.task_force_code == TF, c.c.closed.is_(False),
                                                 c.c.due_unit == unit, c.c.due_at < now)).all())


def test_three_units_score_as_counted_by_hand_on_a_simulated_half_year(simulated_two_lakes):
    db, clock = simulated_two_lakes
    cases = Cases(db, clock)
    with db.read() as conn:
        spec = cases.figures.spec(conn, TF)
        for unit, row in HAND.items():
            assert _counted(conn, unit) == row, unit
        scores = {s.unit: s for s in assess(conn, TF, spec, 2026, clock.now())}
        for unit, row in HAND.items():
            got = scores[unit]
            assert tuple(ln.count for ln in got.lines) == row, unit
            assert [ln.code for ln in got.lines] == list(COLUMNS)
            assert got.score == SCORES[unit], unit
            assert got.overdue_now == OVERDUE_NOW[unit] == _overdue_now(conn, unit, clock.now()), unit
            # Every deduction and bonus drills down to as many cases as it counts.
            for ln in got.lines:
                rule = spec.assessment[2026].rules[ln.code]
                found = behind(conn, TF, spec, 2026, clock.now(), unit, rule).get(unit, [])
                assert len(found) == ln.count, (unit, ln.code)


def test_points_per_item_caps_expressions_and_the_score_floor():
    spec = read_task_force(ROOT / TF).figures.assessment[2026]
    many = Tally("u")
    many.late["action_item"] = 30  # capped at 20
    many.late["duty_report"] = 4
    many.cards.update(yellow=2, red=1, circular=1, summons=1, transfer=1)
    many.met["action_item"] = 50  # 0.1 each, capped at 3
    got = score_unit(spec, many)
    lines = {ln.code: (ln.count, ln.points) for ln in got.lines}
    assert lines["late"] == (30, 20) and lines["missed_report"] == (4, 4) and lines["on_time"] == (50, 3)
    assert got.deductions == 20 + 4 + 2 * 2 + 4 + 6 + 8 + 10 == 56 and got.bonuses == 3
    assert got.score == 100 - 56 + 3
    many.cards["transfer"] = 10  # 146 deducted: the score stops at 0
    assert score_unit(spec, many).score == 0
    clean = score_unit(spec, Tally("v"))
    assert clean.score == 100 and clean.deductions == 0


def _folder(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / TF
    shutil.copytree(ROOT / TF, folder)
    text = (folder / "figures.yaml").read_text("utf-8")
    assert old in text
    (folder / "figures.yaml").write_text(text.replace(old, new), "utf-8")
    return folder


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('"card:yellow"', '"card:yelow"', "no event is marked card of kind 'yelow'; kinds: circular, red, summons"),
    ('"selection:referrals_made"', '"selection:referals"', "unknown selection 'referals'; selections: referrals_made"),
    ("by: referrer, bonus", "by: referer, bonus", "referral has no party role 'referer'"),
    ("by: referrer, bonus", "bonus", "needs by: ROLE"),
    ("except: [duty_report]", "except: [duty_reports]", "unknown workflow 'duty_reports'"),
    ("counts: met,", "counts: mett,", "counts 'mett' is not late, met, overdue, card:KIND or selection:NAME"),
    ("deduct: 2}", "deduct: 2, bonus: 1}", "give exactly one of deduct (扣分) or bonus (加分)"),
    ("deduct: 4}", "deduct: 'n ** 2'}", "is not allowed"),
    ("deduct: 8}", "deduct: 'm × 2'}", "unknown name 'm'"),
    ("min(bonuses, 5)", "min(bonus, 5)", "unknown name 'bonus'"),
    ("cap: 20}", "cap: -1}", "cap is the most points"),
])
def test_every_name_of_the_rules_is_resolved_at_load_with_its_line(tmp_path, old, new, problem):
    with pytest.raises(DefinitionError) as failed:
        read_task_force(_folder(tmp_path, old, new))
    assert problem in failed.value.problem
    assert failed.value.source.endswith("figures.yaml") and failed.value.line is not None


def test_gongzhi_check_reports_a_broken_rule(tmp_path):
    from engine.check import check_folder

    problems = check_folder(_folder(tmp_path, '"card:red"', '"card:rd"'))
    assert any("no event is marked card of kind 'rd'" in p.what and p.file.endswith("figures.yaml")
               for p in problems), problems
    shape = check_folder(_folder(tmp_path / "b", "cap: 3}", "cap: 3, per: 1}"))
    assert any("per" in p.what and p.file.endswith("figures.yaml") for p in shape), shape


def test_the_stored_rules_read_back_as_they_were_loaded():
    from engine.figures import from_data

    loaded = read_task_force(ROOT / TF).figures
    stored = from_data(json.loads(json.dumps(loaded.raw)))
    assert list(stored.assessment) == [2026]
    assert stored.assessment[2026].rules.keys() == loaded.assessment[2026].rules.keys()
    t = Tally("u")
    t.cards["red"] = 2
    assert score_unit(stored.assessment[2026], t).score == score_unit(loaded.assessment[2026], t).score == 92

