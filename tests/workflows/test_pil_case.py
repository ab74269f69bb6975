"""检察监督: an administrative public-interest case as the procuratorate runs it, and its hearings —
every path, both databases. Only the case's own procuratorate moves it; others hand in clues and look."""

from __future__ import annotations

from sqlalchemy import select

from db.models import CaseParty, Deadline, OutboxItem
from engine.errors import BadPayload, GuardFailed, RoleNotHeld
from engine.timers import run_due
from tests import tx
from tests.conftest import end_of, local
from tests.workflows.flow import AS_CHIEF, GY_CHIEF, GY_PROC, OFFICE, Flow, member

QZ = member("gy_qz_gov")
AS_PROC = GY_PROC.__class__.of("proc-as", "as_jcy", "procurator")


def clue(cases, actor=OFFICE, **extra):
    # Version 1, as published: its cases keep it (v2 is tests/workflows/test_pil_case_v2.py).
    return Flow(cases, tx.start(cases, task_force="two_lakes", workflow="pil_case", actor=actor,
                                title="清镇市红枫湖沿岸污水直排", version=1,
                                payload={"facts": "沿岸生活污水长期直排，行政机关未依法履职",
                                         "procuratorate": "gy_jcy", "agency": "gy_qz_gov",
                                         "clue_type": "国家机关转交", **extra}))


def investigating(cases):
    c = clue(cases)
    c.fire("register_clue", GY_PROC, "evaluating", note="线索具有可查性")
    c.fire("decide_file", GY_CHIEF, "filed", agency="gy_qz_gov", harm="饮用水源受污染", duty="属地水污染防治职责")
    assert c.case.due_at == end_of(2026, 3, 9)  # serve the 立案决定书 within 7 days
    c.fire("serve_filing", GY_PROC, "investigating", served_on="2026-03-03")
    return c


def recommended(cases, urgent=False, served_on="2026-03-05"):
    c = investigating(cases)
    c.fire("conclude_investigation", GY_PROC, "investigation_concluded", proposal="发出检察建议", report="调查终结报告")
    c.fire("decide_recommendation", GY_CHIEF, "recommendation_decided",
           recommendation_points=["依法履行监管职责", "限期完成截污"], urgent=urgent)
    c.fire("serve_recommendation", GY_PROC, "awaiting_reply", served_on=served_on, recommendation_no="清检行公建〔2026〕1号",
           procurator_name="检察官某某")
    return c


def test_only_the_cases_procuratorate_moves_it_and_others_see_it_as_a_party(cases, db):
    c = clue(cases)
    assert c.case.parties == {"procuratorate": ["gy_jcy"], "agency": ["gy_qz_gov"], "clue_source": ["two_lakes_office"]}
    for outsider in (OFFICE, QZ, AS_PROC, member("gy_jcy").__class__.of("x", "gy_sthjj", "procurator")):
        assert tx.allowed_events(cases, c.id, outsider) == []
        c.refused(RoleNotHeld, "register_clue", outsider)
    with db.read() as conn:
        parties = conn.execute(select(CaseParty.unit_code).where(CaseParty.case_id == c.id)).scalars().all()
    assert "two_lakes_office" in parties and "gy_qz_gov" in parties
    c.fire("register_clue", GY_PROC, "evaluating")
    # Another procuratorate's 检察长 holds the role but not the case; the case's own procurator is not
    # its 检察长.
    c.refused(RoleNotHeld, "decide_not_file", AS_CHIEF, reason="x")
    c.refused(GuardFailed, "decide_not_file", GY_PROC, "须由检察长决定", reason="x")
    c.fire("decide_not_file", GY_CHIEF, "not_filed", reason="不符合立案条件")


def test_a_member_hands_in_a_clue_which_is_transferred(cases):
    source = Flow.start(cases, "referral", member("gy_sthjj"), "排污", problem="排污")
    c = Flow(cases, tx.start(cases, task_force="two_lakes", workflow="pil_case", actor=member("gy_sthjj"), title="线索",
                             version=1, payload={"facts": "某局不履职", "procuratorate": "gy_jcy",
                                                 "source": source.case.number}))
    assert c.case.parties["clue_source"] == ["gy_sthjj"] and [x.id for x in c.linked("clue")] == [source.id]
    c.fire("register_clue", GY_PROC, "evaluating")
    c.fire("transfer_clue", GY_CHIEF, "clue_transferred", to="as_jcy", reason="属安顺市检察院管辖")


def test_investigation_with_consultation_ends_in_termination(cases):
    c = investigating(cases)
    c.fire("consult", GY_PROC, "consulting", form="磋商座谈会", topics="整改方案")
    c.refused(BadPayload, "end_consultation", GY_PROC)
    c.fire("end_consultation", GY_PROC, "investigating", minutes="行政机关承诺限期整改")
    c.fire("report_obstruction", GY_CHIEF, "investigating", measure="通报上级机关")
    c.fire("conclude_investigation", GY_PROC, "investigation_concluded", proposal="终结案件", report="已整改")
    c.fire("terminate", GY_CHIEF, "terminated", ground="国家利益或社会公共利益已得到有效保护")


def test_recommendation_replied_and_performed(cases, db):
    c = recommended(cases)
    # Two months from service on 5 March end on 5 May, inside the Labour Day holiday: 6 May.
    assert c.case.due_at == end_of(2026, 5, 6) and c.case.due_role == "agency"
    c.fire("record_reply", GY_PROC, "follow_up", reply_received_on="2026-04-20", reply_summary="已制定整改方案")
    assert c.case.due_at == end_of(2026, 5, 20)  # a month to review, from the reply's record
    c.fire("assess_point", GY_PROC, "follow_up", point=1, state="已落实")
    c.fire("assess_point", GY_PROC, "follow_up", point=2, state="已落实", note="截污完成")
    c.fire("conclude_review", GY_PROC, "review_concluded", proposal="终结案件", report="已全部落实")
    c.fire("close_performed", GY_CHIEF, "performed", note="行政机关已依法履职")
    with db.read() as conn:
        kinds = [p["kind"] for p in conn.execute(select(OutboxItem.payload).where(OutboxItem.case_id == c.id)
                                                 .order_by(OutboxItem.id)).scalars()]
    assert kinds == ["procuratorial_followup", "procuratorial_followup"]


def test_urgent_reply_overdue_suspension_and_litigation_to_judgment(cases, db):
    c = recommended(cases, urgent=True)
    assert c.case.due_at == end_of(2026, 3, 20)  # fifteen days from service
    cases.clock.set(local(2026, 3, 21, 9))
    run_due(cases)
    case = c.case
    assert case.state == "follow_up" and case.data["reply_overdue"] is True
    assert tx.history(cases, c.id)[-1].actor_id == "system"
    assert case.due_at == end_of(2026, 4, 21)
    cases.clock.set(local(2026, 4, 1, 9))
    c.fire("suspend", GY_CHIEF, "suspended", reason="汛期无法施工")
    with db.read() as conn:
        assert conn.execute(select(Deadline.status).where(Deadline.case_id == c.id,
                                                          Deadline.name == "review_by")).scalar_one() == "paused"
    cases.clock.set(local(2026, 4, 11, 9))
    # Ten days stood still: 21 April + 10 = 1 May, inside the Labour Day holiday: Wed 6 May (issue 14).
    assert c.fire("resume", GY_CHIEF, "follow_up", reason="汛期结束").due_at == end_of(2026, 5, 6)
    c.fire("conclude_review", GY_PROC, "review_concluded", proposal="提起诉讼", report="仍未履职")
    c.refused(GuardFailed, "start_prosecution_review", GY_CHIEF, "仍处于受侵害状态",
              situation="逾期不回复且未采取有效措施", interest_still_harmed=False)
    case = c.fire("start_prosecution_review", GY_CHIEF, "prosecution_review", situation="逾期不回复且未采取有效措施",
                  interest_still_harmed=True)
    assert case.due_at == end_of(2026, 5, 11)
    assert c.fire("extend_review", GY_CHIEF, "prosecution_review", new_due="2026-06-11").due_at == end_of(2026, 6, 11)
    c.fire("file_suit", GY_CHIEF, "suit_filed", court="清镇市人民法院", claims=["确认违法", "责令履行职责"])
    c.fire("court_accepts", GY_PROC, "in_trial", accepted_on="2026-05-20")
    c.fire("change_claim", GY_CHIEF, "in_trial", claims=["责令履行职责"])
    c.fire("judgment", GY_PROC, "judged", outcome="驳回诉讼请求", judged_on="2026-07-10")
    c.fire("appeal", GY_CHIEF, "in_trial", reason="一审认定事实错误")
    c.fire("judgment", GY_PROC, "judged", outcome="责令履行职责", judged_on="2026-09-10")
    c.fire("enforce", GY_PROC, "enforcement", note="行政机关未在期限内履行")
    c.fire("close", GY_PROC, "closed", note="执行完毕")
    assert tx.verify(cases) == []


def test_review_ends_in_transfer_termination_withdrawal_or_a_closed_judgment(cases):
    ends = []
    for ending in ("transfer", "terminate", "withdraw", "judged"):
        c = recommended(cases)
        c.fire("record_reply", GY_PROC, reply_received_on="2026-03-20")
        proposal = {"transfer": "移送", "terminate": "终结案件"}.get(ending, "提起诉讼")
        c.fire("conclude_review", GY_PROC, "review_concluded", proposal=proposal, report="r")
        if ending == "transfer":
            ends.append(c.fire("transfer_case", GY_CHIEF, to="as_jcy", reason="上级检察院指定").state)
            continue
        if ending == "terminate":
            ends.append(c.fire("terminate", GY_CHIEF, ground="其他").state)
            continue
        c.fire("start_prosecution_review", GY_CHIEF, situation="回复后未采取或仅部分采取措施", interest_still_harmed=True)
        c.fire("file_suit", GY_CHIEF, court="清镇市人民法院", claims=["责令履行职责"])
        c.fire("court_accepts", GY_PROC, accepted_on="2026-05-20")
        if ending == "withdraw":
            ends.append(c.fire("withdraw", GY_CHIEF, reason="诉讼请求已全部实现").state)
            continue
        c.fire("judgment", GY_PROC, outcome="确认违法", judged_on="2026-07-10")
        ends.append(c.fire("close", GY_PROC, note="判决已履行").state)
    assert ends == ["case_transferred", "terminated", "withdrawn", "closed"]


# --- 听证 ---------------------------------------------------------------------------------------------

def hearing_of(cases):
    c = investigating(cases)
    c.refused(RoleNotHeld, "propose_hearing", OFFICE, matter="x")
    c.fire("propose_hearing", GY_PROC, "investigating", matter="整改方案是否可行", public=True)
    (h,) = c.linked("hearing")
    return c, h


def test_hearing_approved_held_and_recorded(cases):
    c, h = hearing_of(cases)
    assert h.case.parties == {"procuratorate": ["gy_jcy"], "agency": ["gy_qz_gov"]}
    assert h.case.data == {"matter": "整改方案是否可行", "public": True, "case": c.case.number}
    h.refused(RoleNotHeld, "approve", AS_CHIEF)
    h.refused(GuardFailed, "approve", GY_PROC, "须由检察长决定")
    h.fire("approve", GY_CHIEF, "approved")
    h.refused(GuardFailed, "schedule", GY_PROC, "至少提前3日", hearing_at="2026-03-04T09:00:00+08:00", venue="检察听证室",
              hearing_officers=["人大代表某某"])
    h.fire("schedule", GY_PROC, "scheduled", hearing_at="2026-03-10T09:00:00+08:00", venue="检察听证室",
           hearing_officers=["人大代表某某", "政协委员某某", "专家某某"], public_notice=True)
    h.fire("hold", GY_PROC, "held", presiding="承办检察官某某")
    h.refused(GuardFailed, "record_opinions", GY_PROC, "须报检察长决定", opinions=["a", "b", "c"],
              majority_opinion="方案可行", follows_majority=False)
    h.fire("record_opinions", GY_PROC, "recorded", opinions=["可行", "可行", "需补充"], majority_opinion="方案可行",
           follows_majority=False, chief_approval="同意不采纳，补充调查")


def test_hearing_refused_with_reasons(cases):
    _, h = hearing_of(cases)
    h.refused(BadPayload, "refuse", GY_CHIEF)
    h.fire("refuse", GY_CHIEF, "refused", reason="争议不大，无听证必要")
