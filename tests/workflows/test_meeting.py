"""联席会议 and its 议定事项: every path, on both databases, reloading the cases between steps."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from db.models import OutboxItem
from engine.errors import BadPayload, GuardFailed, RoleNotHeld
from engine.timers import run_due
from tests import tx
from tests.conftest import end_of, local
from tests.workflows.flow import CONVENOR, HEAD, OFFICE, Flow, member

GY_SWJ, AS_STHJJ, QZ = member("gy_swj"), member("as_sthjj"), member("gy_qz_gov")
MAJOR_GUESTS = ["gy_jcy", "as_jcy", "gz_observers", "gz_sthjt", "gz_slt"]


def at_meeting_time(cases, m):
    """The clock reaches the time the notice gave: a meeting is not held before it (v2)."""
    cases.clock.set(datetime.fromisoformat(m.case.data["meeting_at"]))


def meeting(cases, kind="plenary", **extra):
    title = {"plenary": "2026年上半年联席会议全体会议", "topical": "2026年第一季度联席会议专题会议"}.get(kind, "临时会议")
    payload = {"period": "2026-H1"} if kind != "ad_hoc" else {}
    return Flow.start(cases, "meeting", OFFICE, title, parties={"organiser": ["two_lakes_office"]}, kind=kind,
                      due="2026-06-30", **payload, **extra)


def to_notice(m, major=False):
    m.fire("propose_item", GY_SWJ, "scheduled", item="红枫湖饮用水源保护区优化调整" if major else "一季度工作通报",
           owner="gy_swj", major=major)
    m.fire("approve_agenda", CONVENOR, "agenda_approved")
    m.fire("issue_notice", OFFICE, "notice_issued", meeting_name="2026年上半年联席会议全体会议",
           meeting_at="2026-03-12T09:30:00+08:00", venue="贵阳市水务局三楼会议室",
           agenda=["通报一季度工作", "研究保护区优化调整"], reply_by="2026-03-09")
    return m


CHAIR = {"chair": "贵阳市人民政府市长某某", "chair_position": "组长"}
DECISIONS = [
    {"text": "加快红枫湖沿岸截污管网建设", "responsible_unit": "gy_qz_gov", "co_units": ["gy_swj"], "due": "2026-06-30"},
    {"text": "开展上游畜禽养殖专项排查", "responsible_unit": "as_nyncj"},
]


def held(cases, major=False, kind="plenary"):
    m = to_notice(meeting(cases, kind), major)
    at_meeting_time(m.cases, m)
    chair = CHAIR if kind == "plenary" else {"chair": "贵阳市水务局局长某某", "chair_position": "副组长"}
    m.fire("hold", OFFICE, "held", **chair, attendees=["gy_gov", "as_gov", "ga_gov", "gy_swj"],
           observers=["gy_jcy"] if major else None)
    return m


def test_a_major_item_invites_the_procuratorate_and_observers_who_do_not_vote(cases, db):
    m = meeting(cases)
    case = m.fire("propose_item", GY_SWJ, "scheduled", item="红枫湖饮用水源保护区优化调整", owner="gy_swj", major=True)
    assert case.parties["observer"] == MAJOR_GUESTS and case.data["major_matters"] is True
    m.fire("approve_agenda", CONVENOR, "agenda_approved")
    m.fire("issue_notice", OFFICE, "notice_issued", meeting_name="全体会议", meeting_at="2026-03-12T09:30:00+08:00",
           venue="会议室")
    with db.read() as conn:
        assert conn.execute(select(OutboxItem.payload).where(OutboxItem.case_id == m.id)).scalar_one() == {
            "kind": "meeting_notice"}
    m.refused(GuardFailed, "hold", OFFICE, "会议时间未到，不能登记召开（2026年3月12日 09:30）", **CHAIR,
              attendees=["gy_gov"])
    at_meeting_time(cases, m)
    m.refused(GuardFailed, "hold", OFFICE, "gy_jcy is already the observer", **CHAIR,
              attendees=["gy_gov", "gy_jcy"])
    m.refused(GuardFailed, "hold", OFFICE, "列席单位须在邀请之列", **CHAIR, attendees=["gy_gov"],
              observers=["gy_jcy", "gy_dbdcj"])
    case = m.fire("hold", OFFICE, "held", **CHAIR, attendees=["gy_gov", "as_gov", "ga_gov"],
                  observers=["gy_jcy", "gz_observers"])
    assert case.data["observers"] == ["gy_jcy", "gz_observers"] and case.due_at == end_of(2026, 3, 19)


def test_minutes_spawn_an_action_item_per_decision_and_the_meeting_closes_when_they_are_done(cases, db):
    m = held(cases)
    m.refused(BadPayload, "draft_minutes", OFFICE, summary=["会议听取了工作汇报"])
    m.fire("draft_minutes", OFFICE, "minutes_draft", summary=["会议听取了工作汇报"], decisions=DECISIONS)
    m.fire("submit_minutes", OFFICE, "minutes_review")
    m.fire("comment_minutes", AS_STHJJ, "minutes_review", comment="建议明确配合单位")
    m.fire("return_minutes", CONVENOR, "minutes_draft", reason="补充配合单位")
    m.fire("draft_minutes", OFFICE, "minutes_draft", decisions=[DECISIONS[0], {**DECISIONS[1], "co_units": ["as_sthjj"]}])
    m.fire("submit_minutes", OFFICE, "minutes_review")
    case = m.fire("issue_minutes", CONVENOR, "tracking")
    assert case.due_at is None
    first, second = m.linked("decision")
    assert first.case.title == "加快红枫湖沿岸截污管网建设" and first.state == "open"
    assert first.case.parties == {"responsible": ["gy_qz_gov"], "cooperating": ["gy_swj"]}
    assert first.case.due_at == end_of(2026, 6, 30) and first.case.data["meeting"] == case.number
    assert second.case.parties["cooperating"] == ["as_sthjj"]
    # No date in the minutes: 30 working days from the issue (Monday 2 March).
    assert second.case.due_at == end_of(2026, 4, 24)
    m.refused(GuardFailed, "close", OFFICE, "议定事项尚未全部办结或结转")
    for item, unit in ((first, "gy_qz_gov"), (second, "as_nyncj")):
        item.fire("report_done", member(unit), "done_reported", result="已完成")
        item.fire("verify_pass", OFFICE, "closed")
    m.fire("close", OFFICE, "closed")
    with db.read() as conn:
        kinds = [p["kind"] for p in conn.execute(select(OutboxItem.payload).where(OutboxItem.case_id == m.id)
                                                 .order_by(OutboxItem.id)).scalars()]
    assert kinds == ["meeting_notice", "minutes"]
    assert tx.verify(cases) == []


def test_an_escalated_referral_is_settled_by_the_decision_on_it(cases):
    m = meeting(cases, "topical")
    r = Flow.start(cases, "referral", member("gy_sthjj"), "跨市来水污染", problem="上游来水氨氮超标")
    r.fire("report_to_office", OFFICE, "coordinating", reason="跨市")
    r.fire("escalate_to_meeting", HEAD, "escalated", meeting=m.case.number, reason="协调未果")
    m.fire("approve_agenda", CONVENOR, "agenda_approved")
    m.fire("issue_notice", OFFICE, meeting_name="专题会议", meeting_at="2026-03-12T09:30:00+08:00", venue="会议室",
           invitees=["as_pb_gov", "gy_sthjj"])
    assert m.case.parties["invited"] == ["as_pb_gov", "gy_sthjj"]
    at_meeting_time(cases, m)
    m.fire("hold", OFFICE, chair="安顺市生态环境局局长某某", chair_position="副组长", attendees=["as_pb_gov", "gy_sthjj"])
    m.fire("draft_minutes", OFFICE, decisions=[{"text": "平坝区牵头排查上游排污口", "responsible_unit": "as_pb_gov",
                                                "due": "2026-05-31", "case": r.case.number}])
    m.fire("submit_minutes", OFFICE)
    m.fire("issue_minutes", CONVENOR, "tracking")
    (item,) = m.linked("decision")
    case = r.case
    assert case.state == "accepted" and case.parties["receiver"] == ["as_pb_gov"] and case.data["designated"]
    assert [x.id for x in item.linked("settles")] == [r.id]
    assert r.events()[-3:] == ["linked", "linked", "meeting_decides"]
    assert tx.history(cases, r.id)[-1].actor_id == "system"


@pytest.mark.parametrize(("kind", "chair", "message"), [
    ("plenary", {"chair_position": "副组长"}, "全体会议由组长或组长委托常务副组长主持"),
    ("plenary", {"chair_position": "常务副组长"}, "须经组长委托"),
    ("topical", {"chair_position": "组长"}, "专题会议由副组长主持"),
])
def test_who_may_chair(cases, kind, chair, message):
    m = to_notice(meeting(cases, kind))
    at_meeting_time(cases, m)
    m.refused(GuardFailed, "hold", OFFICE, message, chair="某某", attendees=["gy_gov"], **chair)
    if chair["chair_position"] == "常务副组长":
        m.fire("hold", OFFICE, "held", chair="某某", attendees=["gy_gov"], delegated_by="组长某某", **chair)


def test_an_agenda_is_needed_and_a_notice_comes_three_days_ahead(cases):
    m = meeting(cases, "topical")
    m.refused(GuardFailed, "approve_agenda", CONVENOR, "尚无议题")
    m.refused(RoleNotHeld, "approve_agenda", GY_SWJ)
    m.fire("propose_item", OFFICE, item="通报", owner="two_lakes_office")
    m.fire("approve_agenda", CONVENOR)
    m.refused(GuardFailed, "issue_notice", OFFICE, "on or after 2026-03-05", meeting_name="会", venue="室",
              meeting_at="2026-03-04T09:00:00+08:00")
    m.refused(BadPayload, "issue_notice", OFFICE, meeting_name="会", meeting_at="2026-03-05T09:00:00+08:00")
    ad_hoc = meeting(cases, "ad_hoc")
    ad_hoc.fire("propose_item", OFFICE, item="突发环境事件应对", owner="two_lakes_office")
    ad_hoc.fire("approve_agenda", CONVENOR)
    ad_hoc.fire("issue_notice", OFFICE, "notice_issued", meeting_name="临时会议", venue="室",
                meeting_at="2026-03-02T15:00:00+08:00")


def test_postponed_within_its_period(cases):
    m = to_notice(meeting(cases))
    case = m.fire("postpone", CONVENOR, "scheduled", new_due="2026-06-30", reason="主要领导出差")
    assert case.due_at == end_of(2026, 6, 30)
    m.fire("approve_agenda", CONVENOR, "agenda_approved")


def test_only_an_ad_hoc_meeting_can_be_cancelled(cases):
    m = meeting(cases)
    m.refused(GuardFailed, "cancel", CONVENOR, "只能在本周期内延期", reason="x")
    ad_hoc = meeting(cases, "ad_hoc")
    assert ad_hoc.fire("cancel", CONVENOR, "cancelled", reason="事项已协调解决").closed


def test_a_meeting_not_held_by_its_date_climbs_the_ladder(cases):
    m = Flow.start(cases, "meeting", OFFICE, "2026年第一季度联席会议专题会议", kind="topical", period="2026-Q1",
                   due="2026-03-31", parties={"organiser": ["two_lakes_office"]})
    cases.clock.set(local(2026, 4, 1, 9))
    run_due(cases)
    (ladder,) = m.linked("supervision")
    assert ladder.state == "reminded" and ladder.case.parties["supervised"] == ["two_lakes_office"]
    m.fire("postpone", CONVENOR, "scheduled", new_due="2026-04-15", reason="与专项行动时间冲突")
    assert ladder.state == "cancelled"


# --- 议定事项 ---------------------------------------------------------------------------------------

def item(cases, unit="gy_qz_gov", **extra):
    return Flow.start(cases, "action_item", OFFICE, "加快截污管网建设", task="加快截污管网建设",
                      responsible_unit=unit, **extra)


def test_action_item_progress_and_done(cases):
    a = item(cases, due="2026-04-30")
    a.fire("report_progress", QZ, "open", progress="已完成管网设计")
    a.refused(RoleNotHeld, "report_done", member("gy_by_gov"), result="x")
    a.fire("report_done", QZ, "done_reported", result="管网已建成", evidence=["竣工验收报告"])
    a.refused(RoleNotHeld, "verify_pass", QZ)
    a.fire("verify_pass", OFFICE, "closed")


def test_action_item_extension_granted_denied_and_redo(cases):
    a = item(cases, due="2026-04-30")
    a.refused(GuardFailed, "request_extension", QZ, "on or after", new_due="2026-04-30", reason="x")
    a.fire("request_extension", QZ, "extension_pending", new_due="2026-06-30", reason="征地协调")
    a.fire("deny_extension", HEAD, "open", reason="理由不充分")
    a.fire("request_extension", QZ, "extension_pending", new_due="2026-05-31", reason="征地协调")
    assert a.fire("grant_extension", HEAD, "open", new_due="2026-05-31").due_at == end_of(2026, 5, 31)
    a.fire("report_done", QZ, "done_reported", result="完成")
    case = a.fire("return_for_redo", OFFICE, "open", reason="尚未通水", due="2026-06-15")
    assert case.data["returns"] == 1 and case.due_at == end_of(2026, 6, 15)


def test_action_item_carried_over_to_a_later_meeting(cases):
    later = meeting(cases, "topical")
    a = item(cases)
    a.refused(GuardFailed, "carry_over", OFFICE, "not meeting", meeting=item(cases).case.number, reason="x")
    a.fire("carry_over", OFFICE, "carried_over", meeting=later.case.number, reason="跨年度工程，结转下次会议")
    assert [x.id for x in a.linked("carried_over")] == [later.id]


def test_an_overdue_action_item_climbs_and_done_ends_the_ladder(cases):
    a = item(cases, due="2026-03-10")
    cases.clock.set(local(2026, 3, 11, 9))
    run_due(cases)
    (ladder,) = a.linked("supervision")
    cases.clock.set(local(2026, 3, 16, 9))
    run_due(cases)
    assert ladder.state == "yellow" and ladder.case.data["supervision_level"] == "yellow"
    a.fire("report_done", QZ, "done_reported", result="完成")
    assert ladder.state == "cancelled"


def test_a_decision_on_a_case_not_escalated_only_links_it(cases):
    r = Flow.start(cases, "referral", member("gy_sthjj"), "沿岸垃圾", problem="垃圾")
    a = item(cases, settles=r.case.number)
    assert r.state == "draft" and [x.id for x in a.linked("settles")] == [r.id]
