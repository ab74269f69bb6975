"""跨区域问题移送: every path, on both databases, reloading the case between steps."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import OutboxItem
from engine.errors import BadPayload, GuardFailed, RoleNotHeld, UnitNotAllowed
from engine.timers import run_due
from tests import tx
from tests.conftest import end_of, local
from tests.workflows.flow import CONVENOR, HEAD, OFFICE, Flow, member

GY_STHJJ, QZ, BY, PB = member("gy_sthjj"), member("gy_qz_gov"), member("gy_by_gov"), member("as_pb_gov")
GA_STHJJ = member("ga_sthjj")


def open_events(cases, case_id, actor):
    with cases.db.read() as conn:
        return cases.open_events(conn, tx.load(cases, case_id), actor)


def draft(cases, actor=GY_STHJJ, **payload):
    return Flow.start(cases, "referral", actor, "红枫湖沿岸生活垃圾堆放",
                      problem="清镇市红枫湖沿岸发现生活垃圾堆放", location="清镇市红枫镇", **payload)


def referred(cases, receiver="gy_qz_gov", **payload):
    f = draft(cases)
    f.fire("refer", GY_STHJJ, "referred", receiver=receiver, reason="属地管理", **payload)
    return f


def in_progress(cases):
    f = referred(cases)
    f.fire("accept", QZ, "accepted")
    f.fire("start_work", QZ, "in_progress")
    return f


def test_refer_accept_handle_and_verify(cases, db):
    f = draft(cases)
    assert f.case.parties == {"referrer": ["gy_sthjj"]}
    case = f.fire("refer", GY_STHJJ, "referred", receiver="gy_qz_gov", reason="属地管理", due="2026-03-31")
    assert case.parties["receiver"] == ["gy_qz_gov"]
    with db.read() as conn:
        kinds = conn.execute(select(OutboxItem.payload).where(OutboxItem.case_id == f.id)).scalars().all()
    assert kinds == [{"kind": "referral_letter"}]
    assert tx.allowed_events(cases, f.id, QZ) == ["accept", "object"]
    case = f.fire("accept", QZ, "accepted")
    assert case.due_at == end_of(2026, 3, 31)  # the referrer's date, not the default 15 working days
    f.fire("start_work", QZ, "in_progress")
    f.fire("progress", QZ, "in_progress", note="已组织清运")
    f.fire("report_result", QZ, "result_reported", result="垃圾已清运", evidence=["清运前后照片"])
    case = f.fire("verify_pass", GY_STHJJ, "closed")
    assert case.closed and tx.verify(cases) == []


def test_extension_granted_then_a_redo(cases):
    f = in_progress(cases)
    # Fifteen working days from Monday 2 March: 23 March.
    assert f.case.due_at == end_of(2026, 3, 23)
    f.fire("request_extension", QZ, "extension_pending", new_due="2026-04-10", reason="雨季清运受阻")
    case = f.fire("grant_extension", HEAD, "in_progress", new_due="2026-04-10")
    assert case.due_at == end_of(2026, 4, 10)
    f.fire("report_result", QZ, "result_reported", result="已清运")
    case = f.fire("return_for_redo", OFFICE, "in_progress", reason="仍有残留", due="2026-04-20")
    assert case.data["returns"] == 1 and case.due_at == end_of(2026, 4, 20)
    f.fire("report_result", QZ, "result_reported", result="已全部清运")
    f.fire("verify_pass", OFFICE, "closed")


def test_extension_denied_and_refused_once_past_due(cases):
    f = in_progress(cases)
    f.refused(GuardFailed, "request_extension", QZ, "must be on or after", new_due="2026-03-20", reason="r")
    f.fire("request_extension", QZ, "extension_pending", new_due="2026-04-10", reason="雨季")
    case = f.fire("deny_extension", OFFICE, "in_progress", reason="不属客观原因")
    assert case.due_at == end_of(2026, 3, 23)
    cases.clock.set(local(2026, 3, 24, 9))
    f.refused(GuardFailed, "request_extension", QZ, "has passed", new_due="2026-04-10", reason="r")


def test_objection_upheld_reassigns(cases):
    f = referred(cases, receiver="gy_by_gov")
    f.fire("object", BY, "objected", reason="问题点位在清镇市辖区", proposed_unit="gy_qz_gov")
    f.refused(GuardFailed, "reassign", OFFICE, "already the receiver", receiver="gy_by_gov", reason="x")
    case = f.fire("reassign", OFFICE, "referred", receiver="gy_qz_gov", reason="属清镇市辖区")
    assert case.parties["receiver"] == ["gy_qz_gov"]
    assert tx.allowed_events(cases, f.id, BY) == []
    f.fire("accept", QZ, "accepted")


def test_objection_rejected_designates_and_the_unit_cannot_object_again(cases):
    f = referred(cases)
    f.fire("object", QZ, "objected", reason="非本单位职责")
    case = f.fire("designate", OFFICE, "referred", reason="属地管理，指定清镇市办理")
    assert case.data["designated"] is True
    f.refused(GuardFailed, "object", QZ, "不得再次退回", reason="仍认为非本单位职责")
    f.fire("accept", QZ, "accepted")


def test_objection_window_closes_after_five_working_days(cases):
    f = referred(cases)  # Monday 2 March
    cases.clock.set(local(2026, 3, 10, 9))  # six working days on
    f.refused(GuardFailed, "object", QZ, "超过5个工作日", reason="非本单位职责")
    assert open_events(cases, f.id, QZ) == ["accept"]
    f.fire("accept", QZ, "accepted")


def test_late_acceptance_opens_the_ladder_and_accepting_ends_it(cases):
    f = referred(cases)
    cases.clock.set(local(2026, 3, 6, 9))  # three working days: 3, 4, 5 March
    run_due(cases)
    (ladder,) = f.linked("supervision")
    assert ladder.state == "reminded" and ladder.case.parties == {"supervised": ["gy_qz_gov"]}
    f.fire("accept", QZ, "accepted")
    assert ladder.state == "cancelled"


def test_a_problem_lying_in_the_other_city_is_referred_there_and_its_objection_ruled_by_the_office(cases):
    """贵安新区 finds a problem wholly inside 平坝区 (安顺市): it refers it to the 属地政府 like any other;
    平坝区 objects, the office (which coordinates across the cities) designates it, and it cannot object again."""
    f = Flow.start(cases, "referral", GA_STHJJ, "马场河上游生活垃圾堆放", problem="马场河上游沿岸堆放生活垃圾",
                   location="平坝区马场镇")
    assert f.case.data.get("cross_city") is None
    case = f.fire("refer", GA_STHJJ, "referred", receiver="as_pb_gov", reason="问题位于平坝区辖区，属地管理")
    assert case.parties == {"referrer": ["ga_sthjj"], "receiver": ["as_pb_gov"]}
    assert tx.allowed_events(cases, f.id, PB) == ["accept", "object"]
    case = f.fire("object", PB, "objected", reason="点位在贵安新区马场镇一侧", proposed_unit="ga_gov")
    # The ruling is the office's to make, within 3 working days: it is on the office's list now.
    assert case.parties["coordinator"] == ["two_lakes_office"] and case.due_at == end_of(2026, 3, 5)
    assert open_events(cases, f.id, PB) == []
    case = f.fire("designate", OFFICE, "referred", reason="经现场核实，点位在平坝区一侧，指定平坝区政府承办")
    assert case.data["designated"] is True
    f.refused(GuardFailed, "object", PB, "不得再次退回", reason="仍有异议")
    # Allowed by state and role, but refused by a guard that needs no input: no form is offered for it.
    assert tx.allowed_events(cases, f.id, PB) == ["accept", "object"] and open_events(cases, f.id, PB) == ["accept"]
    f.fire("accept", PB, "accepted")
    f.fire("start_work", PB, "in_progress")
    f.fire("report_result", PB, "result_reported", result="已清运", evidence=["清运台账"])
    assert f.fire("verify_pass", GA_STHJJ, "closed").closed


def test_a_problem_spanning_the_cities_goes_to_the_office_which_designates(cases):
    f = draft(cases)
    case = f.fire("report_to_office", GY_STHJJ, "coordinating", reason="上游安顺市平坝区来水污染")
    assert case.data["cross_city"] is True and case.parties["coordinator"] == ["two_lakes_office"]
    assert case.due_at == end_of(2026, 3, 23)  # 15 working days to coordinate
    case = f.fire("coordinate_designate", OFFICE, "accepted", receiver="as_pb_gov", reason="协调确定由平坝区办理")
    assert case.data["designated"] is True and case.parties["receiver"] == ["as_pb_gov"]
    f.fire("start_work", PB, "in_progress")


def test_a_flagged_cross_city_problem_cannot_be_referred_directly(cases):
    f = draft(cases, cross_city=True)
    # The flag is already set, so the form for `refer` is not offered; a guard on a field (the receiver
    # must not be the referrer itself) cannot be judged before it is filled in, so it does not hide a form.
    assert open_events(cases, f.id, GY_STHJJ) == ["report_to_office"]
    assert open_events(cases, draft(cases).id, GY_STHJJ) == ["refer", "report_to_office"]
    f.refused(GuardFailed, "refer", GY_STHJJ, "报专班办公室统筹协调", receiver="gy_qz_gov", reason="x")
    f.fire("report_to_office", OFFICE, "coordinating", reason="跨市")


def meeting(cases, state_events=()):
    m = Flow.start(cases, "meeting", OFFICE, "2026年第二季度联席会议专题会议", kind="topical", due="2026-06-30",
                   parties={"organiser": ["two_lakes_office"]})
    return m


def test_coordination_fails_and_the_meeting_hears_it_then_refers_up(cases):
    m = meeting(cases)
    f = draft(cases)
    f.fire("report_to_office", GY_STHJJ, "coordinating", reason="跨市")
    f.refused(GuardFailed, "escalate_to_meeting", HEAD, "no other case", meeting="会议-2026-0404", reason="x")
    case = f.fire("escalate_to_meeting", HEAD, "escalated", meeting=m.case.number, reason="协调未果")
    agenda = m.case.data["agenda_items"]
    assert agenda == [{"item": case.title, "owner": "two_lakes_office", "source": case.number, "reason": "协调未果"}]
    assert [x.id for x in f.linked("agenda")] == [m.id] and [x.id for x in m.linked_from("agenda")] == [f.id]
    assert m.events()[-1] == "add_agenda_item" and "linked" in m.events()
    f.fire("refer_up", CONVENOR, "referred_up", reason="两市意见不一，报请省政府协调")
    assert tx.verify(cases) == []


def test_objection_escalated_and_the_meeting_decides(cases):
    m = meeting(cases)
    f = referred(cases)
    f.fire("object", QZ, "objected", reason="涉及多个部门")
    f.fire("escalate_to_meeting", HEAD, "escalated", meeting=m.case.number, reason="部门职责存在争议")
    case = f.fire("meeting_decides", CONVENOR, "accepted", receiver="gy_qz_gov", decision="由清镇市牵头办理")
    assert case.data["designated"] is True and case.due_at is not None


def test_a_meeting_past_its_agenda_cannot_take_an_escalation(cases):
    m = meeting(cases)
    m.fire("propose_item", OFFICE, item="工作情况通报", owner="two_lakes_office")
    m.fire("approve_agenda", CONVENOR)
    m.fire("issue_notice", OFFICE, meeting_name="专题会议", meeting_at="2026-03-20T09:30:00+08:00", venue="会议室")
    f = draft(cases)
    f.fire("report_to_office", GY_STHJJ, reason="跨市")
    f.refused(GuardFailed, "escalate_to_meeting", HEAD, "cannot take 'add_agenda_item'", meeting=m.case.number,
              reason="x")


def test_a_persistently_late_receiver_becomes_a_procuratorial_clue(cases):
    f = in_progress(cases)
    f.refused(GuardFailed, "refer_to_procuratorate", HEAD, "逾期", procuratorate="gy_jcy", reason="x")
    cases.clock.set(local(2026, 4, 1, 9))
    f.fire("refer_to_procuratorate", HEAD, "in_progress", procuratorate="gy_jcy",
           reason="清镇市逾期未清理沿岸垃圾，饮用水源持续受威胁")
    (clue,) = f.linked("clue")
    assert clue.state == "clue_submitted"
    assert clue.case.parties == {"agency": ["gy_qz_gov"], "clue_source": ["two_lakes_office"],
                                 "procuratorate": ["gy_jcy"]}
    assert clue.case.data["clue_type"] == "国家机关转交"
    assert tx.allowed_events(cases, clue.id, OFFICE) == []


@pytest.mark.parametrize("state", ["draft", "referred", "in_progress", "coordinating"])
def test_terminate_from_any_open_state(cases, state):
    f = draft(cases)
    if state == "referred":
        f.fire("refer", GY_STHJJ, receiver="gy_qz_gov", reason="r")
    elif state == "in_progress":
        f.fire("refer", GY_STHJJ, receiver="gy_qz_gov", reason="r")
        f.fire("accept", QZ)
        f.fire("start_work", QZ)
    elif state == "coordinating":
        f.fire("report_to_office", OFFICE, reason="跨市")
    f.refused(RoleNotHeld, "terminate", OFFICE, reason="重复")
    f.fire("terminate", HEAD, "terminated", reason="重复", note="与移送-2026-0001重复")


def test_refusals_name_the_role_the_field_and_the_guard(cases):
    f = draft(cases)
    f.refused(RoleNotHeld, "refer", QZ, receiver="gy_by_gov", reason="r")
    err = f.refused(BadPayload, "refer", GY_STHJJ, receiver="gy_qz_gov")
    assert err.field == "reason"
    f.refused(BadPayload, "refer", GY_STHJJ, "unknown unit", receiver="nowhere", reason="r")
    f.refused(GuardFailed, "refer", GY_STHJJ, "already the referrer", receiver="gy_sthjj", reason="r")
    f.fire("refer", GY_STHJJ, receiver="gy_qz_gov", reason="r")
    f.fire("accept", QZ)
    f.fire("start_work", QZ)
    f.fire("report_result", QZ, result="done")
    f.refused(RoleNotHeld, "verify_pass", QZ)
    # The unit handling the case cannot verify itself, even holding the office's role (the office
    # itself is no receiver: the naming rules allow a government or department only).
    f.refused(GuardFailed, "verify_pass", OFFICE.__class__.of("q", "gy_qz_gov", "office"), "cannot do this itself")
    f2 = draft(cases)
    f2.refused(UnitNotAllowed, "refer", GY_STHJJ, "kind office", receiver="two_lakes_office", reason="r")
