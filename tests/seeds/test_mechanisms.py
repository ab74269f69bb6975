"""Issue 8: the four sister mechanisms (seeds 000–003) as data only — each loads with init and runs its
typical year (or campaign) on the same engine, and the figures the seeds state come out of the cases."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from db.models import Definition, TaskForce
from documents import records
from documents.excel import LOOKBACK_COLUMNS, lookback_xlsx
from engine import views
from engine.actors import Actor
from engine.cadences import materialise, parse_cadences
from engine.errors import GuardFailed
from engine.items import load_items
from engine.localtime import LOCAL_TZ
from tests import tx
from tests.conftest import local
from workflows import ROOT

MECHANISMS = {
    "xiangtan": {"key_task"},
    "chongchuan": {"lookback", "progress_report", "disclosure"},
    "huzhou": {"problem", "briefing"},
    "daxinganling": {"plan_task", "indicator", "enterprise_card", "card_list"},
}
ENGINE = Path(__file__).resolve().parents[2] / "engine"


def test_each_mechanism_loads_as_data_and_the_engine_names_none(db, tmp_path):
    with db.read() as conn:
        loaded = {tf: set(conn.execute(select(Definition.name).where(Definition.task_force_code == tf)).scalars())
                  for tf in MECHANISMS}
        forces = set(conn.execute(select(TaskForce.code)).scalars())
    assert loaded == MECHANISMS and set(MECHANISMS) <= forces
    for path in ENGINE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"two_lakes|xiangtan|chongchuan|huzhou|daxinganling|湘潭|崇川|湖州|大兴安岭", text), path
    # `gongzhi init` on an empty database loads every folder, and a second run changes nothing.
    url = f"sqlite:///{tmp_path / 'init.sqlite3'}"
    first = CliRunner().invoke(app, ["init", "--database-url", url])
    assert first.exit_code == 0, first.output
    for tf in MECHANISMS:
        assert re.search(rf"专班 {tf}: organisation loaded, (\d+) of \1 definitions newly published", first.output)
    again = CliRunner().invoke(app, ["init", "--database-url", url])
    assert "0 of" in again.output and "loaded," not in again.output


def _overdue(db, task_force: str, as_of) -> set[str]:
    with db.read() as conn:
        return {i.title for i in views.due_items(conn, as_of, task_force=task_force, overdue_only=True)}


# --- 湘潭 (seed 000) ------------------------------------------------------------------------------

XT_OFFICE = Actor.of("xt-o", "xt_office", "office", name="市政府办公室督查科")
XT_HBJ = Actor.of("xt-h", "xt_hbj", "member", name="市环保局")


def test_xiangtan_task_matrix_from_its_file_and_2017_deadlines_overdue_on_new_year(db, cases, clock):
    clock.set(local(2017, 12, 20))
    created = load_items(cases, "xiangtan", ROOT / "xiangtan" / "tasks.yaml")
    assert len(created) == 11  # nine tasks; (四) and (九) each carry two deadlines
    assert load_items(cases, "xiangtan", ROOT / "xiangtan" / "tasks.yaml") == []  # idempotent
    by_title = {c.title: c for c in (tx.load(cases, case_id) for case_id in created)}
    first = by_title["优化沿江供排水格局"]
    assert first.parties["lead"] == ["xt_swj", "xt_zjj"] and "xt_hbj" in first.parties["cooperating"]
    assert first.due_at is None and first.data["ongoing"]  # 持续推进: no deadline
    zoning = by_title["完成县级及以上城市集中式饮用水水源保护区划定"]

    # 9a is done and signed off (核查销号) before the year ends; the lead may not sign off its own task.
    clock.set(local(2017, 12, 28))
    tx.fire(cases, zoning.id, "report_done", XT_HBJ, {"result": "保护区划定方案已获省政府批复"})
    with pytest.raises(GuardFailed):
        tx.fire(cases, zoning.id, "sign_off", Actor.of("x", "xt_hbj", "office"), {})
    tx.fire(cases, zoning.id, "sign_off", XT_OFFICE, {})

    new_year = local(2018, 1, 1, 0, 30)
    assert _overdue(db, "xiangtan", new_year) == {
        "深入推进城市饮用水水源地环保执法专项行动",  # 2017年底前完成
        "深入开展沿江化工污染专项整治",  # 2017年底前取得阶段性成果
        "开展长江入河排污口专项检查行动",  # 2017年11月底前完成
    }
    # 回头看: nothing found once; then a relapse reopens the task with a new deadline.
    clock.set(local(2018, 3, 1))
    tx.fire(cases, zoning.id, "look_back", XT_OFFICE, {"finding": "保护区标志完好，未见反弹"})
    tx.fire(cases, zoning.id, "relapse", XT_OFFICE, {"finding": "二级保护区内新增违法建筑", "due": "2018-04-30"})
    again = tx.load(cases, zoning.id)
    assert again.state == "open" and again.data["relapses"] == 1 and len(again.data["lookbacks"]) == 2
    assert "完成县级及以上城市集中式饮用水水源保护区划定" in _overdue(db, "xiangtan", local(2018, 5, 2))
    assert tx.verify(cases) == []


# --- 崇川 (seed 002) ------------------------------------------------------------------------------

CC_OFFICE = Actor.of("cc-o", "cc_office", "office", name="区政府办公室")
CC_LSZ = Actor.of("cc-l", "cc_lsz_jd", "member", name="狼山镇街道")


def test_chongchuan_lookback_campaign_reports_on_the_22nd_summary_by_7_december_and_the_annex_table(
        db, cases, clock):
    clock.set(local(2018, 5, 1))
    problems = [{"text": "一级保护区内违法网箱养殖，已拆除", "location": "江苏省南通市崇川区", "source": "狼山水厂长江水源地",
                 "measures": "拆除网箱12处"},
                {"text": "二级保护区内排污口，已封堵", "location": "江苏省南通市崇川区", "source": "狼山水厂长江水源地"}]
    campaign = tx.start(cases, task_force="chongchuan", workflow="lookback", actor=CC_OFFICE, title="狼山镇街道“回头看”",
                        parties={"street": ["cc_lsz_jd"], "filed_with": ["cc_hbj", "cc_zjj"]},
                        payload={"due": "2018-11-30", "problems": problems})
    cadences = parse_cadences(ROOT / "chongchuan" / "cadences.yaml")
    assert materialise(cases, "chongchuan", cadences, date(2018, 1, 1), date(2018, 12, 31)) == 7 * 2 + 7
    assert materialise(cases, "chongchuan", cadences, date(2019, 1, 1), date(2019, 12, 31)) == 0
    assert load_items(cases, "chongchuan", ROOT / "chongchuan" / "summary.yaml")
    with db.read() as conn:
        due = views.due_items(conn, local(2018, 12, 31, 23, 0), task_force="chongchuan")
    monthly = [i for i in due if i.workflow == "progress_report" and "进展情况" in i.title]
    assert len(monthly) == 14 and {i.due_at.astimezone(LOCAL_TZ).day for i in monthly} == {22}
    assert [i.due_at.astimezone(LOCAL_TZ).month for i in monthly if i.unit == "cc_lsz_jd"] == list(range(5, 12))
    summaries = [i for i in due if "工作总结" in i.title]
    assert {i.due_at.astimezone(LOCAL_TZ).date() for i in summaries} == {date(2018, 12, 7)}
    disclosures = [i for i in due if i.workflow == "disclosure"]
    assert [i.due_at.astimezone(LOCAL_TZ).date() for i in disclosures][:2] == [date(2018, 5, 31), date(2018, 6, 30)]

    # May's report goes in on time; 任港 misses it and is overdue the next day.
    may = next(i for i in monthly if i.unit == "cc_lsz_jd" and i.due_at.month == 5)
    clock.set(local(2018, 5, 21))
    tx.fire(cases, may.case_id, "submit", CC_LSZ, {"content": "2个已整改问题已逐一“回头看”"})
    assert {i.unit for i in views.due_items(db.engine.connect(), local(2018, 5, 23), task_force="chongchuan",
                                            overdue_only=True) if i.workflow == "progress_report"} == {"cc_rg_jd"}

    # 完成一个，销号一个 — and the annex's statistics table, exactly its columns.
    tx.fire(cases, campaign.id, "record_lookback", CC_LSZ, {"problem_no": 1, "finding": "未见网箱复养", "done": True})
    tx.fire(cases, campaign.id, "record_lookback", CC_LSZ, {"problem_no": 2, "finding": "发现新增暗管，限期封堵", "done": False,
                                                            "remark": "6月底前"})
    with db.read() as conn:
        sheet = load_workbook(io.BytesIO(lookback_xlsx(records.load(conn, campaign.id)))).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(rows[0]) == LOOKBACK_COLUMNS == (
        "问题序号", "所在地", "水源地名称", "已整改问题具体情况", "“回头看”情况", "是否完成整治", "备注")
    assert rows[1][:3] == [1, "江苏省南通市崇川区", "狼山水厂长江水源地"] and rows[1][5] == "是"
    assert rows[2][4:] == ["发现新增暗管，限期封堵", "否", "6月底前"]


# --- 湖州 (seed 003) ------------------------------------------------------------------------------

HZ_OFFICE = Actor.of("hz-o", "hz_sthjj", "office", name="领导小组办公室")
SOURCES = {"老虎潭水库": ("hz_wx_gov", "联系领导甲"), "合溪水库": ("hz_cx_gov", "联系领导乙"),
           "对河口水库": ("hz_dq_gov", "联系领导丙")}


def _problems_file(tmp_path: Path) -> Path:
    """The problem list the office keeps: one ministry finding, nine found by self-inspection."""
    lines = ["workflow: problem", "items:"]
    names = list(SOURCES)
    rows = [("m1", "ministry", names[0], "2018-10-31")] + [
        (f"s{i}", "self_inspection", names[i % 3], "2018-11-30") for i in range(1, 10)]
    for key, origin, source, due in rows:
        unit, leader = SOURCES[source]
        lines += [f"  - key: {key}", f"    title: {source}问题{key}", f"    parties: {{responsible: [{unit}]}}",
                  f"    fields: {{origin: {origin}, source: {source}, leader: {leader}, problem: 问题{key}, due: {due}}}"]
    path = tmp_path / "problems.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_huzhou_progress_count_reads_9_5_4_when_the_seed_reports_it(db, cases, clock, tmp_path):
    clock.set(local(2018, 8, 1))
    ids = load_items(cases, "huzhou", _problems_file(tmp_path))
    problems = [tx.load(cases, i) for i in ids]
    assert len(problems) == 10
    leaders: dict[str, set[str]] = {}
    for p in problems:
        leaders.setdefault(p.data["source"], set()).add(p.data["leader"])
    assert all(len(v) == 1 for v in leaders.values())  # 一名领导联系一个水源地

    clock.set(local(2018, 10, 10))
    for p in [p for p in problems if p.data["origin"] == "self_inspection"][:5]:
        unit = p.parties["responsible"][0]
        tx.fire(cases, p.id, "report_done", Actor.of(f"r-{unit}", unit, "member"), {"result": "已整改"})
        tx.fire(cases, p.id, "sign_off", HZ_OFFICE, {})
    with db.read() as conn:
        own = views.tally(conn, "huzhou", "problem", done_states=("signed_off",), where={"origin": "self_inspection"})
        ministry = views.tally(conn, "huzhou", "problem", done_states=("signed_off",), where={"origin": "ministry"})
    assert (own.total, own.done, own.in_progress) == (9, 5, 4)  # “自查上报的9个问题，已整改完成5个，4个正按计划推进”
    assert (ministry.total, ministry.done, ministry.in_progress) == (1, 0, 1)

    # The fortnightly meeting (from July) reports the computed count.
    cadences = parse_cadences(ROOT / "huzhou" / "cadences.yaml")
    assert materialise(cases, "huzhou", cadences, date(2018, 1, 1), date(2018, 12, 31)) == 11
    with db.read() as conn:
        meeting = next(i for i in views.due_items(conn, local(2018, 10, 31), task_force="huzhou")
                       if i.workflow == "briefing" and i.due_at >= local(2018, 10, 10))
    tx.fire(cases, meeting.case_id, "hold", HZ_OFFICE, {"self_reported": own.total, "done": own.done,
                                                        "in_progress": own.in_progress})
    # The ministry's problem is overdue after 31 October; the self-reported ones only after 30 November.
    assert len(_overdue(db, "huzhou", local(2018, 11, 1)) & {p.title for p in problems}) == 1
    assert len(_overdue(db, "huzhou", local(2018, 12, 1)) & {p.title for p in problems}) == 5


# --- 大兴安岭 (seed 001) ----------------------------------------------------------------------------

DX_OFFICE = Actor.of("dx-o", "dxal_hbj", "office", name="行署环保局")
DX_ZJJ = Actor.of("dx-z", "dxal_zjj", "member", name="行署住建局")
DX_HBJ = Actor.of("dx-h", "dxal_hbj", "member", name="行署环保局")


def test_daxinganling_indicators_against_targets_tasks_and_the_card_list(db, cases, clock):
    clock.set(local(2016, 3, 1))
    indicators = {tx.load(cases, i).title: tx.load(cases, i) for i in
                  load_items(cases, "daxinganling", ROOT / "daxinganling" / "indicators.yaml")}
    tasks = load_items(cases, "daxinganling", ROOT / "daxinganling" / "tasks.yaml")
    assert len(indicators) == 6 and len(tasks) == 4
    assert tx.load(cases, tasks[1]).parties == {"lead": ["dxal_zjj"], "participating": ["dxal_fgw", "dxal_gxw", "dxal_swj"]}

    cards = [tx.start(cases, task_force="daxinganling", workflow="enterprise_card", actor=DX_OFFICE, title=name,
                      parties={"regulator": ["dxal_hbj"], "county": [county]},
                      payload={"enterprise": name, "reason": "化学需氧量超标排放", "due": "2016-09-30"})
             for name, county in (("甲木材加工厂", "dxal_jgdq_gov"), ("乙乳品厂", "dxal_th_gov"), ("丙砂石场", "dxal_hm_gov"))]
    clock.set(local(2016, 10, 15))
    tx.fire(cases, cards[0].id, "red_card", DX_OFFICE, {"reason": "整治期满仍超标"})
    tx.fire(cases, cards[1].id, "lift", DX_OFFICE, {"evidence": "监督性监测连续达标"})
    cadences = parse_cadences(ROOT / "daxinganling" / "cadences.yaml")
    assert materialise(cases, "daxinganling", cadences, date(2016, 1, 1), date(2016, 12, 31)) == 2
    with db.read() as conn:
        yellow = [t for _, t in views.in_states(conn, "daxinganling", "enterprise_card", ("yellow",))]
        red = [t for _, t in views.in_states(conn, "daxinganling", "enterprise_card", ("red",))]
        listing = next(i for i in views.due_items(conn, local(2017, 1, 31), task_force="daxinganling")
                       if i.workflow == "card_list" and i.due_at.year == 2017)
    assert (yellow, red) == (["丙砂石场"], ["甲木材加工厂"])
    listed = tx.fire(cases, listing.case_id, "publish", DX_OFFICE, {"yellow": yellow, "red": red})
    assert listed.state == "published" and listed.data["red"] == ["甲木材加工厂"]

    # Reported values against targets: the leakage rate within 25% in 2017, not within 18% in 2020.
    clock.set(local(2018, 1, 20))
    leak17 = tx.fire(cases, indicators["2017年城市公共供水管网漏损率"].id, "report_value", DX_ZJJ, {"value": 23.5})
    sections = tx.fire(cases, indicators["2017年国家考核断面水质优良（达到或优于Ⅲ类）比例"].id, "report_value", DX_HBJ,
                       {"value": 100})
    clock.set(local(2021, 1, 20))
    leak20 = tx.fire(cases, indicators["2020年城市公共供水管网漏损率"].id, "report_value", DX_ZJJ, {"value": 19.2})
    assert (leak17.data["met"], sections.data["met"], leak20.data["met"]) == (True, True, False)
    assert leak20.data["target"] == 18 and leak20.data["direction"] == "at_most"
    tx.fire(cases, leak20.id, "confirm", DX_OFFICE, {})
    # Tasks due at the end of 2017 that were not closed are overdue in 2018.
    assert "依法完成禁养区内畜禽养殖业的清理整顿" in _overdue(db, "daxinganling", local(2018, 1, 2))
    assert tx.verify(cases) == []
