"""联合治理: the quarterly joint inspection, its problem list, each problem item to 销号, the 回头看 that
reopens the same item, and joint applications for central funds — every path, on both databases."""

from __future__ import annotations

from sqlalchemy import select

from db.models import OutboxItem
from engine.errors import BadPayload, GuardFailed, RoleNotHeld
from engine.timers import run_due
from tests import tx
from tests.conftest import end_of, local
from tests.workflows.flow import HEAD, INSPECTOR, OFFICE, Flow, member

QZ, GY_SWJ, AS_STHJJ, GY_STHJJ = member("gy_qz_gov"), member("gy_swj"), member("as_sthjj"), member("gy_sthjj")
FOUR = ["gy_swj", "gy_sthjj", "as_sthjj", "ga_sthjj"]
PROBLEMS = [
    {"text": "红枫湖清镇段沿岸生活污水直排", "location": "清镇市红枫湖镇", "source": "红枫湖饮用水源二级保护区",
     "measures": "完善截污管网", "responsible_unit": "gy_qz_gov", "co_units": ["gy_swj"], "due": "2026-05-31"},
    {"text": "平坝区隔离防护网破损", "location": "平坝区", "responsible_unit": "as_pb_gov"},
]


def inspection(cases):
    return Flow.start(cases, "joint_inspection", OFFICE, "2026年第一季度“两湖”流域联合排查",
                      parties={"organiser": ["two_lakes_office"], "inspecting": FOUR}, period="2026-Q1",
                      due="2026-03-31")


def problem(cases, unit="gy_qz_gov", **extra):
    return Flow.start(cases, "problem_item", OFFICE, "沿岸生活污水直排", problem="沿岸生活污水直排",
                      responsible_unit=unit, **extra)


def rectifying(cases, **extra):
    p = problem(cases, **extra)
    p.fire("submit_plan", QZ, "plan_submitted", measures="建设截污管网", category="限期整改")
    p.fire("approve_plan", OFFICE, "rectifying", due="2026-05-31")
    return p


def closed_out(cases, **extra):
    p = rectifying(cases, **extra)
    p.fire("apply_close", QZ, "close_requested", evidence=["整改前后照片"])
    p.fire("assign_verifiers", OFFICE, "verifying", verifiers=["gy_sthjj"])
    p.fire("verify_pass", GY_STHJJ, "publicizing", finding="已完成截污")
    p.fire("close_out", OFFICE, "closed_out")
    return p


def test_inspection_issues_a_plan_whose_problems_become_items(cases, db):
    j = inspection(cases)
    j.refused(RoleNotHeld, "conduct", QZ, summary="x")
    j.fire("conduct", GY_SWJ, "conducted", summary="四部门联合排查红枫湖沿岸", focus=["污水", "隔离防护设施"],
           problems_found=2)
    assert j.case.due_at == end_of(2026, 3, 9)  # the list within 5 working days
    j.refused(BadPayload, "issue_list", OFFICE, plan_name="整改方案", plan_body=["一、总体要求"],
              problems=[{"text": "x", "responsible_unit": "nowhere"}])
    case = j.fire("issue_list", OFFICE, "list_issued", plan_name="2026年第一季度“两湖”流域问题整改方案",
                  plan_body=["一、总体要求", "二、整改措施"], problems=PROBLEMS)
    assert case.due_at is None
    first, second = j.linked("problem")
    assert first.state == "listed" and first.case.data["origin"] == "joint_inspection"
    assert first.case.parties == {"responsible": ["gy_qz_gov"], "cooperating": ["gy_swj"]}
    assert first.case.data["due"] == "2026-05-31" and second.case.data.get("due") is None
    assert first.case.due_at == end_of(2026, 3, 16)  # the plan within 10 working days
    j.fire("close", OFFICE, "closed")
    with db.read() as conn:
        assert conn.execute(select(OutboxItem.payload).where(OutboxItem.case_id == j.id)).scalar_one() == {
            "kind": "rectification_plan"}


def test_problem_item_to_closeout(cases):
    p = problem(cases, due="2026-05-31")
    p.fire("submit_plan", QZ, "plan_submitted", measures="建设截污管网", category="限期整改", milestones=["4月完工"])
    p.fire("return_plan", OFFICE, "listed", reason="缺少完成时限")
    p.fire("submit_plan", QZ, "plan_submitted", measures="建设截污管网，5月底完工", category="限期整改")
    case = p.fire("approve_plan", OFFICE, "rectifying")
    assert case.due_at == end_of(2026, 5, 31)
    p.fire("report_progress", QZ, "rectifying", progress="管网已完成60%")
    p.refused(BadPayload, "apply_close", QZ)
    p.fire("apply_close", QZ, "close_requested", evidence=["整改前后照片", "监测数据"])
    p.refused(GuardFailed, "assign_verifiers", OFFICE, "already the responsible", verifiers=["gy_qz_gov"])
    p.fire("assign_verifiers", OFFICE, "verifying", verifiers=["gy_sthjj", "gy_swj"])
    p.refused(RoleNotHeld, "verify_pass", QZ, finding="自己验收")
    p.fire("verify_fail", GY_SWJ, "rectifying", reason="仍有一处排口", due="2026-06-15")
    assert p.case.data["returns"] == 1 and p.case.due_at == end_of(2026, 6, 15)
    p.fire("apply_close", QZ, "close_requested", evidence=["补充照片"])
    p.fire("assign_verifiers", OFFICE, "verifying", verifiers=["gy_sthjj"])
    p.fire("verify_pass", GY_STHJJ, "publicizing", finding="达到销号标准")
    p.fire("publicity_objection", OFFICE, "verifying", objection="群众反映夜间仍有排放")
    p.fire("verify_pass", OFFICE, "publicizing", finding="复核无排放")
    # Five working days of publicity, then the clock closes it out.
    cases.clock.set(local(2026, 3, 10, 9))
    run_due(cases)
    assert p.state == "closed_out" and tx.history(cases, p.id)[-1].actor_id == "system"


def test_lookback_finds_a_relapse_and_reopens_the_same_item(cases):
    p = closed_out(cases)
    j = inspection(cases)
    j.fire("conduct", INSPECTOR.__class__.of("i", "gy_swj", "member"), summary="回头看")
    j.refused(GuardFailed, "lookback", OFFICE, "not closed_out", problem_no=rectifying(cases).case.number,
              finding="x", done=True)
    j.fire("lookback", OFFICE, "conducted", problem_no=p.case.number, finding="截污设施运行正常", done=True)
    assert p.state == "closed_out"
    j.fire("lookback", OFFICE, "conducted", problem_no=p.case.number, finding="雨季溢流，污水直排反弹",
           done=False, remark="重新整改")
    case = p.case
    assert case.state == "rectifying" and case.data["relapses"] == 1 and case.number == p.case.number
    assert case.due_at == end_of(2026, 4, 14)  # a new 30 working days from the look-back (清明 off)
    assert [x.id for x in j.linked("lookback")] == [p.id, p.id]
    assert j.case.data["lookbacks"][1] == {"problem_no": case.number, "finding": "雨季溢流，污水直排反弹",
                                           "done": False, "remark": "重新整改"}
    assert tx.history(cases, p.id)[-1].payload == {"finding": "雨季溢流，污水直排反弹", "inspection": j.case.number}
    # The office may also reopen an item found again outside an inspection.
    p.fire("apply_close", QZ, "close_requested", evidence=["照片"])
    p.fire("assign_verifiers", OFFICE, verifiers=["gy_sthjj"])
    p.fire("verify_pass", GY_STHJJ, finding="ok")
    p.fire("close_out", OFFICE, "closed_out")
    assert p.fire("relapse", OFFICE, "rectifying", finding="群众举报再次排放").data["relapses"] == 2


def test_extension_stage_done_and_monthly_progress(cases):
    p = rectifying(cases)
    p.refused(GuardFailed, "mark_stage_done", QZ, "仅长期整改", note="x")
    p.fire("request_extension", QZ, "extension_pending", new_due="2026-07-31", reason="工程量大")
    p.fire("report_progress", QZ, "extension_pending", progress="继续施工")
    p.fire("deny_extension", HEAD, "rectifying", reason="不予延期")
    p.fire("request_extension", QZ, "extension_pending", new_due="2026-06-30", reason="雨季停工")
    assert p.fire("grant_extension", HEAD, "rectifying", new_due="2026-06-30").due_at == end_of(2026, 6, 30)
    long = problem(cases)
    long.fire("submit_plan", QZ, measures="生态修复", category="长期整改")
    long.fire("approve_plan", OFFICE)
    assert long.fire("mark_stage_done", QZ, "rectifying", note="一期完成").data["stage_done"] is True


def test_rejected_merged_and_late_plan(cases):
    p = problem(cases)
    p.fire("reject", OFFICE, "rejected", reason="经核实为合法排口")
    main = problem(cases)
    dup = problem(cases)
    dup.refused(GuardFailed, "merge", OFFICE, "no other case", into="问题-2026-9999")
    dup.fire("merge", OFFICE, "merged", into=main.case.number)
    assert [x.id for x in dup.linked("merged_into")] == [main.id]
    cases.clock.set(local(2026, 3, 17, 9))  # 10 working days passed without a plan
    run_due(cases)
    (ladder,) = main.linked("supervision")
    assert ladder.case.parties["supervised"] == ["gy_qz_gov"]
    main.fire("submit_plan", QZ, "plan_submitted", measures="m", category="立行立改")
    assert ladder.state == "cancelled"


def test_a_problem_left_unrectified_becomes_a_procuratorial_clue(cases):
    p = rectifying(cases)
    p.refused(GuardFailed, "refer_to_procuratorate", HEAD, "逾期", procuratorate="gy_jcy", reason="x")
    cases.clock.set(local(2026, 6, 2, 9))
    p.fire("refer_to_procuratorate", HEAD, "rectifying", procuratorate="gy_jcy", reason="逾期未整改，污水持续直排")
    (clue,) = p.linked("clue")
    assert clue.case.parties["agency"] == ["gy_qz_gov"] and clue.state == "clue_submitted"


# --- 共同申报中央资金 ---------------------------------------------------------------------------------

def application(cases, applicants=("gy_gov", "as_gov", "ga_gov")):
    return Flow.start(cases, "fund_application", OFFICE, "红枫湖流域水生态保护修复项目",
                      project="红枫湖流域水生态保护修复", fund="中央水污染防治资金", due="2026-04-30",
                      applicants=list(applicants), lead_unit="gy_gov")


def test_joint_fund_application_approved_and_completed(cases):
    gy = member("gy_gov")
    a = application(cases)
    a.refused(RoleNotHeld, "submit", member("as_gov"), amount=5000, summary="x")
    a.fire("submit", gy, "submitted", amount=5000, summary="三方共同谋划")
    a.fire("record_approval", OFFICE, "approved", amount_approved=3000)
    a.fire("start_implementation", gy, "implementing")
    a.fire("complete", gy, "completed", result="项目竣工")


def test_fund_application_needs_two_parties_and_may_fail(cases):
    single = application(cases, applicants=("gy_gov",))
    single.refused(GuardFailed, "submit", member("gy_gov"), "两方以上", amount=100, summary="x")
    a = application(cases)
    a.fire("submit", member("gy_gov"), amount=100, summary="x")
    a.fire("record_rejection", OFFICE, "not_approved", reason="未入选")
