"""联合执法 and 督查问效: comprehensive and sector actions with their reports and findings; the
supervision ladder from 催办 to 移交, its refusals, and the procuratorial clue — every path, both databases."""

from __future__ import annotations

import pytest

from engine.errors import BadPayload, GuardFailed, NotAllowed, RoleNotHeld
from engine.timers import run_due
from tests import tx
from tests.conftest import end_of, local
from tests.workflows.flow import CONVENOR, HEAD, OFFICE, Flow, member

GY_STHJJ, AS_STHJJ, GY_SWJ = member("gy_sthjj"), member("as_sthjj"), member("gy_swj")


def comprehensive(cases):
    return Flow.start(cases, "enforcement_action", OFFICE, "2026年上半年“两湖”流域综合性联合执法",
                      parties={"organiser": ["two_lakes_office"]}, kind="comprehensive", period="2026-H1",
                      due="2026-06-30")


def sector(cases):
    return Flow.start(cases, "enforcement_action", OFFICE, "2026年第一季度生态环境行业联合执法",
                      parties={"organiser": ["gy_sthjj"], "participant": ["gy_sthjj", "as_sthjj", "ga_sthjj"]},
                      kind="sector", sector="生态环境", period="2026-Q1", due="2026-03-31")


def test_comprehensive_action_needs_two_sectors_and_reports_to_the_office(cases):
    e = comprehensive(cases)
    e.refused(GuardFailed, "organise", OFFICE, "至少两个行业部门", participants=["gy_sthjj", "gy_gov"],
              sectors=["生态环境", "水务"], plan="方案")
    e.refused(GuardFailed, "organise", OFFICE, "至少两个行业参加", participants=["gy_sthjj", "as_sthjj"],
              sectors=["生态环境"], plan="方案")
    e.refused(BadPayload, "organise", OFFICE, participants=["gy_sthjj", "gy_swj"], sectors=["林业"], plan="p")
    case = e.fire("organise", OFFICE, "organised", participants=["gy_sthjj", "gy_swj", "as_nyncj"],
                  sectors=["生态环境", "水务", "农业农村"], plan="红枫湖沿岸联合执法方案", action_date="2026-04-15")
    assert case.parties["participant"] == ["gy_sthjj", "gy_swj", "as_nyncj"]
    e.fire("conduct", GY_SWJ, "conducted", summary="检查企业12家，立案3起", cases_filed=3, findings=[
        {"text": "某养殖场粪污直排入河", "location": "平坝区", "responsible_unit": "as_pb_gov", "due": "2026-05-31"},
    ])
    assert e.case.due_at == end_of(2026, 3, 9)  # 5 working days to notify and report
    (finding,) = e.linked("finding")
    assert finding.case.data["origin"] == "enforcement" and finding.state == "listed"
    e.refused(RoleNotHeld, "notify_each_other", GY_SWJ, content="x")
    e.fire("notify_each_other", OFFICE.__class__.of("o", "two_lakes_office", "member"), "notified",
           content="执法情况互相通报")
    e.fire("report_to_office", OFFICE.__class__.of("o", "two_lakes_office", "member"), "reported", report="报告")
    e.fire("acknowledge", OFFICE, "closed")


def test_sector_action_by_its_lead_department(cases):
    e = sector(cases)
    e.fire("organise", GY_STHJJ, "organised", participants=["gy_sthjj", "as_sthjj"], sectors=["生态环境"],
           plan="生态环境行业联合执法")
    e.fire("conduct", AS_STHJJ, "conducted", summary="未发现问题")
    assert e.linked("finding") == []
    e.fire("notify_each_other", GY_STHJJ, "notified", content="通报")
    e.fire("report_to_office", GY_STHJJ, "reported", report="报告")
    e.fire("acknowledge", OFFICE, "closed")


def test_postponed_then_late_report_is_supervised(cases):
    e = sector(cases)
    assert e.fire("postpone", OFFICE, "planned", new_due="2026-04-10", reason="汛期").due_at == end_of(2026, 4, 10)
    e.fire("organise", GY_STHJJ, participants=["gy_sthjj", "as_sthjj"], sectors=["生态环境"], plan="p")
    e.fire("conduct", GY_STHJJ, summary="s")
    cases.clock.set(local(2026, 3, 10, 9))
    run_due(cases)
    (ladder,) = e.linked("supervision")
    assert ladder.case.parties["supervised"] == ["gy_sthjj"]
    e.fire("notify_each_other", GY_STHJJ, content="c")
    e.fire("report_to_office", GY_STHJJ, "reported", report="r")
    assert ladder.state == "cancelled"


# --- 督办阶梯 -----------------------------------------------------------------------------------------

def overdue_item(cases, unit="gy_qz_gov"):
    """An action item due on 3 March, with its ladder open the day after."""
    a = Flow.start(cases, "action_item", OFFICE, "截污管网建设", task="截污管网建设", responsible_unit=unit,
                   due="2026-03-03")
    cases.clock.set(local(2026, 3, 4, 9))
    run_due(cases)
    (ladder,) = a.linked("supervision")
    return a, ladder


RED = {"supervision_situation": "逾期10个工作日未办结", "supervision_demand": "限3日内办结", "supervision_reply_by": "2026-03-25"}
SUMMONS = {"summons_at": "2026-04-20T15:00:00+08:00", "summons_venue": "市政府会议室", "summons_host": "副市长某某",
           "summoned_person": "清镇市副市长某某", "summons_reason": "红牌督办后仍未办结", "summons_issues": ["截污管网未建成"],
           "summons_demands": ["5月底前建成"], "summons_due": "2026-05-29"}


def test_the_ladder_climbs_to_transfer_with_human_approval_at_each_sanction(cases):
    a, ladder = overdue_item(cases)
    assert ladder.state == "reminded" and ladder.case.data["item"] == a.case.number
    cases.clock.set(local(2026, 3, 7, 9))  # two working days later (5 and 6 March): yellow, by the clock
    run_due(cases)
    assert ladder.state == "yellow" and ladder.case.data["supervision_level"] == "yellow"
    cases.clock.set(local(2026, 3, 18, 9))  # seven more (9–17 March): red proposed, not given
    run_due(cases)
    assert ladder.state == "red_proposed"
    ladder.refused(RoleNotHeld, "approve_red", OFFICE, **RED)
    ladder.refused(BadPayload, "approve_red", HEAD, supervision_situation="x")
    case = ladder.fire("approve_red", HEAD, "red", **RED)
    assert case.data["supervision_level"] == "red" and case.data["supervision_demand"] == "限3日内办结"
    ladder.fire("propose_circular", OFFICE, "circular_proposed")
    ladder.refused(RoleNotHeld, "approve_circular", HEAD, circular_title="t", circular_body=["b"])
    ladder.fire("approve_circular", CONVENOR, "circular", circular_title="关于清镇市逾期未完成议定事项的通报",
                circular_body=["一、基本情况"])
    ladder.fire("propose_summons", OFFICE, "summons_proposed")
    case = ladder.fire("approve_summons", CONVENOR, "summons", **SUMMONS)
    assert case.due_at is None  # the ladder's clocks never make it overdue itself
    cases.clock.set(local(2026, 5, 30, 9))  # the summons deadline passes
    run_due(cases)
    assert ladder.state == "transfer_proposed"
    ladder.fire("approve_transfer", CONVENOR, "transferred", reason="约谈后仍未整改")
    assert a.state == "open"


def test_sanctions_can_be_declined(cases):
    _, ladder = overdue_item(cases)
    ladder.fire("yellow", OFFICE, "yellow")
    ladder.fire("propose_red", OFFICE, "red_proposed")
    ladder.fire("decline_red", HEAD, "yellow", reason="已说明客观原因")
    ladder.fire("propose_red", OFFICE, "red_proposed")
    ladder.fire("approve_red", HEAD, "red", **RED)
    ladder.fire("propose_circular", OFFICE)
    ladder.fire("decline_circular", CONVENOR, "red", reason="已基本完成")


def test_a_red_card_agency_becomes_a_procuratorial_clue(cases):
    _, ladder = overdue_item(cases)
    ladder.refused(NotAllowed, "refer_to_procuratorate", HEAD, procuratorate="gy_jcy", reason="x")
    ladder.fire("yellow", OFFICE)
    ladder.fire("propose_red", OFFICE)
    ladder.fire("approve_red", HEAD, **RED)
    ladder.fire("refer_to_procuratorate", HEAD, "red", procuratorate="gy_jcy", reason="经红牌督办仍不履职，饮用水源受威胁")
    (clue,) = ladder.linked("clue")
    assert clue.case.parties == {"agency": ["gy_qz_gov"], "clue_source": ["two_lakes_office"],
                                 "procuratorate": ["gy_jcy"]}
    assert clue.linked_from("clue")[0].id == ladder.id


@pytest.mark.parametrize("at", ["reminded", "red"])
def test_doing_the_work_cancels_the_ladder_at_any_level(cases, at):
    a, ladder = overdue_item(cases)
    if at == "red":
        ladder.fire("yellow", OFFICE)
        ladder.fire("propose_red", OFFICE)
        ladder.fire("approve_red", HEAD, **RED)
    a.fire("report_done", member("gy_qz_gov"), "done_reported", result="完成")
    assert ladder.state == "cancelled"
    assert tx.verify(cases) == []
