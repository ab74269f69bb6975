"""检察监督 v2 (issue 14): the deadlines 《人民检察院公益诉讼办案规则》(2021) sets, each against dates worked out
by hand on the 2026 calendar (劳动节 1–5 May, 端午 19–21 June, 国庆 1–7 October, 10 October worked), on both
databases; the capped extension, the appraisal pause, a resumed clock at 24:00 on a working day, and every
deadline's source on the case page and in the API."""

from __future__ import annotations

import re

from sqlalchemy import select

from db.models import Deadline
from engine.errors import GuardFailed, NotAllowed
from engine.timers import run_due
from tests import tx
from tests.api.conftest import accounts, app, client, settings  # noqa: F401
from tests.conftest import end_of, local
from tests.pages.test_pages import sign_in
from tests.workflows.flow import GY_CHIEF, GY_PROC, OFFICE, Flow


def clue(cases, version=2):
    # Cases opened under v2 keep its rules after v3 is published (a published version never changes).
    c = Flow.start(cases, "pil_case", OFFICE, "清镇市红枫湖沿岸污水直排", facts="沿岸生活污水长期直排",
                   procuratorate="gy_jcy", agency="gy_qz_gov", clue_type="国家机关转交", version=version)
    return c


def served(cases, served_on="2026-03-05", urgent=False, version=2):
    c = clue(cases, version)
    c.fire("register_clue", GY_PROC, "evaluating")
    c.fire("decide_file", GY_CHIEF, "filed", agency="gy_qz_gov", harm="饮用水源受污染", duty="属地水污染防治职责")
    c.fire("serve_filing", GY_PROC, "investigating", served_on="2026-03-03")
    c.fire("conclude_investigation", GY_PROC, "investigation_concluded", proposal="发出检察建议", report="调查终结报告")
    c.fire("decide_recommendation", GY_CHIEF, "recommendation_decided", recommendation_points=["限期完成截污"],
           urgent=urgent)
    c.fire("serve_recommendation", GY_PROC, "awaiting_reply", served_on=served_on,
           recommendation_no="清检行公建〔2026〕1号")
    return c


def due(db, c, name):
    with db.read() as conn:
        return conn.execute(select(Deadline.due_at, Deadline.status).where(
            Deadline.case_id == c.id, Deadline.name == name)).one()


def test_review_and_suit_run_from_the_end_of_the_agencys_period_with_one_capped_extension(cases, db):
    c = served(cases)
    # 备案 within 5 days of service on Thu 5 March: Tue 10 March.
    assert due(db, c, "recommendation_filing") == (end_of(2026, 3, 10), "running")
    # Two months from 5 March end on 5 May, inside the Labour Day holiday: Wed 6 May.
    assert due(db, c, "reply") == (end_of(2026, 5, 6), "running")
    c.fire("report_recommendation", GY_PROC, "awaiting_reply")
    assert due(db, c, "recommendation_filing")[1] == "met"
    # The agency replies on 20 April, while its period runs to 6 May: the month of review runs from 6 May,
    # to Sat 6 June, a rest day: Mon 8 June (v1 gave 20 May).
    c.fire("record_reply", GY_PROC, "follow_up", reply_received_on="2026-04-20", reply_summary="已制定整改方案")
    assert c.case.due_at == end_of(2026, 6, 8)
    c.fire("conclude_review", GY_PROC, "review_concluded", proposal="提起诉讼", report="仍未履职")
    cases.clock.set(local(2026, 5, 25, 9))
    # Opened on 25 May, the suit review still runs from the end of the agency's period: 8 June, not 25 June.
    case = c.fire("start_prosecution_review", GY_CHIEF, "prosecution_review", situation="回复后未采取或仅部分采取措施",
                  interest_still_harmed=True)
    assert case.due_at == end_of(2026, 6, 8)
    # The 检察长 extends once, by one month from 8 June: Wed 8 July. No date of one's own choosing.
    c.refused(GuardFailed, "extend_review", GY_PROC, "须由检察长决定", reason="案情复杂")
    assert c.fire("extend_review", GY_CHIEF, "prosecution_extended", reason="案情复杂").due_at == end_of(2026, 7, 8)
    assert due(db, c, "sue_by_extended") == (end_of(2026, 7, 8), "running")
    refused = c.refused(NotAllowed, "extend_review", GY_CHIEF, reason="再次延长")
    assert "file_suit" in refused.allowed and "start_appraisal" in refused.allowed
    assert "extend_review" not in refused.allowed

    # 鉴定 from 20 June to 1 July: eleven days do not count. 8 July + 11 = Sun 19 July: Mon 20 July.
    cases.clock.set(local(2026, 6, 20, 9))
    c.fire("start_appraisal", GY_PROC, "prosecution_extended", kind="鉴定", institution="某司法鉴定所")
    assert due(db, c, "sue_by_extended")[1] == "paused"
    c.refused(GuardFailed, "start_appraisal", GY_PROC, "已有鉴定", kind="检测")
    cases.clock.set(local(2026, 7, 1, 16, 45))
    c.fire("finish_appraisal", GY_PROC, "prosecution_extended", summary="水质超标")
    assert due(db, c, "sue_by_extended") == (end_of(2026, 7, 20), "running")
    assert c.case.due_at == end_of(2026, 7, 20)

    cases.clock.set(local(2026, 7, 10, 9))
    c.fire("file_suit", GY_CHIEF, "suit_filed", court="清镇市人民法院", claims=["确认违法", "责令履行职责"])
    assert due(db, c, "sue_by_extended")[1] == "met"
    # 起诉书 to the procuratorate above within 5 days of 10 July: Wed 15 July.
    assert due(db, c, "indictment_report") == (end_of(2026, 7, 15), "running")
    c.fire("report_indictment", GY_PROC, "suit_filed")
    c.fire("court_accepts", GY_PROC, "in_trial", accepted_on="2026-07-20")
    # 出庭通知书 received Thu 24 Sept: 3 days end Sun 27 Sept, inside 中秋 (25–27): Mon 28 Sept.
    c.fire("receive_court_notice", GY_PROC, "in_trial", notice_received_on="2026-09-24")
    assert due(db, c, "attendance_notice") == (end_of(2026, 9, 28), "running")
    c.fire("send_attendance_notice", GY_PROC, "in_trial", procurators=["检察官甲", "检察官乙"])
    cases.clock.set(local(2026, 9, 29, 9))
    # A change of claims decided Tue 29 Sept goes to the court within 3 days: Fri 2 Oct, in 国庆: Thu 8 Oct.
    c.fire("change_claim", GY_CHIEF, "in_trial", claims=["责令履行职责"])
    assert due(db, c, "claims_to_court") == (end_of(2026, 10, 8), "running")
    c.fire("send_claim_change", GY_PROC, "in_trial")
    # A first-instance judgment of Wed 7 Oct (received in the holiday): 3 days end Sat 10 Oct, a make-up
    # working day — the period may end on it.
    c.fire("judgment", GY_PROC, "judged", outcome="责令履行职责", judged_on="2026-10-07")
    assert due(db, c, "judgment_report") == (end_of(2026, 10, 10), "running")
    c.fire("report_judgment", GY_PROC, "judged")
    assert due(db, c, "judgment_report")[1] == "met"
    assert tx.verify(cases) == []


def test_the_follow_up_review_starts_at_the_reply_when_the_reply_comes_after_the_period(cases, db):
    c = served(cases, urgent=True)
    assert due(db, c, "reply") == (end_of(2026, 3, 20), "running")  # fifteen days from Thu 5 March
    # Replied late, on 30 March: the review runs from then, to Thu 30 April.
    c.fire("record_reply", GY_PROC, "follow_up", reply_received_on="2026-03-30")
    assert c.case.due_at == end_of(2026, 4, 30)


def test_no_reply_the_review_and_the_suit_run_from_the_expiry(cases, db):
    c = served(cases, urgent=True)
    cases.clock.set(local(2026, 3, 21, 9))
    run_due(cases)
    assert c.state == "follow_up" and c.case.due_at == end_of(2026, 4, 20)  # Fri 20 March + 1 month: Mon 20 April


def test_a_resumed_month_ends_at_24_00_on_a_working_day(cases, db):
    # Served Fri 14 Aug, urgent: 15 days end Sat 29 Aug, a rest day: Mon 31 Aug. Replied on 20 Aug, the
    # review runs from 31 Aug to Wed 30 Sept.
    c = served(cases, served_on="2026-08-14", urgent=True)
    c.fire("record_reply", GY_PROC, "follow_up", reply_received_on="2026-08-20")
    assert c.case.due_at == end_of(2026, 9, 30)
    cases.clock.set(local(2026, 9, 10, 17, 30))
    c.fire("suspend", GY_CHIEF, "suspended", reason="汛期无法施工")
    assert due(db, c, "review_by")[1] == "paused"
    # Resumed at 06:29 four days later: four days are added (30 Sept → Sun 4 Oct, 国庆), and the period ends
    # on the first working day after the holiday, Thu 8 Oct, at 24:00 — not at 12:58 on 4 October.
    cases.clock.set(local(2026, 9, 14, 6, 29))
    resumed = c.fire("resume", GY_CHIEF, "follow_up", reason="汛期结束")
    assert resumed.due_at == end_of(2026, 10, 8) == due(db, c, "review_by")[0]
    # Paused and resumed on the same day: nothing is added.
    c.fire("suspend", GY_CHIEF, "suspended", reason="再次受阻")
    cases.clock.set(local(2026, 9, 14, 18, 0))
    assert c.fire("resume", GY_CHIEF, "follow_up", reason="障碍消除").due_at == end_of(2026, 10, 8)


def test_entrusted_investigation_recusal_and_withdrawal(cases, db):
    c = served(cases)
    c.fire("record_reply", GY_PROC, "follow_up", reply_received_on="2026-04-20")
    cases.clock.set(local(2026, 4, 21, 9))
    # 30 days from Tue 21 April: Thu 21 May, owed by the entrusted procuratorate.
    c.fire("entrust_investigation", GY_PROC, "follow_up", entrusted="as_jcy", matters="核实排污口位置")
    assert due(db, c, "entrusted_investigation") == (end_of(2026, 5, 21), "running")
    assert c.case.parties["entrusted"] == ["as_jcy"]
    c.refused(GuardFailed, "entrust_investigation", GY_PROC, "尚未完成", entrusted="as_jcy", matters="x")
    c.fire("receive_entrusted_result", GY_PROC, "follow_up", result="排污口位于清镇市境内")
    assert due(db, c, "entrusted_investigation")[1] == "met"
    # A recusal applied for on Thu 30 April: 3 days end Sun 3 May, inside 劳动节: Wed 6 May.
    cases.clock.set(local(2026, 4, 30, 9))
    c.refused(GuardFailed, "decide_recusal", GY_CHIEF, "没有待决定", decision="驳回申请")
    c.fire("apply_recusal", GY_PROC, "follow_up", person="检察官丙", reason="与行政机关负责人系近亲属")
    assert due(db, c, "recusal_decision") == (end_of(2026, 5, 6), "running")
    c.refused(GuardFailed, "decide_recusal", GY_PROC, "须由检察长决定", decision="决定回避")
    c.fire("decide_recusal", GY_CHIEF, "follow_up", decision="决定回避")
    assert due(db, c, "recusal_decision")[1] == "met"
    c.fire("conclude_review", GY_PROC, "review_concluded", proposal="提起诉讼", report="r")
    c.fire("start_prosecution_review", GY_CHIEF, "prosecution_review", situation="其他", interest_still_harmed=True)
    c.fire("file_suit", GY_CHIEF, "suit_filed", court="清镇市人民法院", claims=["责令履行职责"])
    c.fire("court_accepts", GY_PROC, "in_trial", accepted_on="2026-05-20")
    cases.clock.set(local(2026, 6, 17, 9))
    # Withdrawal decided Wed 17 June: 3 days end Sat 20 June, inside 端午: Mon 22 June.
    c.fire("withdraw", GY_CHIEF, "withdrawal_decided", reason="诉讼请求已全部实现")
    assert due(db, c, "withdrawal_to_court") == (end_of(2026, 6, 22), "running")
    c.fire("submit_withdrawal", GY_PROC, "withdrawn")
    assert due(db, c, "withdrawal_to_court")[1] == "met"


def test_every_deadline_cites_its_source_and_the_case_page_and_api_show_it(cases, client):  # noqa: F811
    from pathlib import Path

    from engine.loader import load_definition_file

    d = load_definition_file(Path("workflows/two_lakes/definitions/pil_case.v2.yaml"))
    assert all(spec.source is not None and spec.source.year for spec in d.deadlines.values())
    assert d.deadlines["sue_by"].source.text == "《人民检察院公益诉讼办案规则》（2021）第四十七条（条文未经核对）：按 issue 14 所读"
    c = served(cases)
    sign_in(client, "procurator")
    page = client.get(f"/case/{c.id}").text
    table = re.search(r'<table data-testid="deadlines">.*?</table>', page, re.S).group(0)
    row = next(r for r in table.split("<tr>") if "报上一级人民检察院备案" in r)
    assert '<td data-testid="deadline-source">《人民检察院公益诉讼办案规则》（2021）（条文未经核对）</td>' in row
    assert "2026年3月10日" in row
    reply = next(r for r in table.split("<tr>") if "两个月内书面回复" in r)
    # The one rule read in its published text: no 未经核对 mark.
    assert ("《最高人民法院、最高人民检察院关于检察公益诉讼案件适用法律若干问题的解释》（2018）第二十一条第二款："
            "2020年修正本未对照") in reply and "未经核对" not in reply
    body = client.get(f"/cases/{c.id}").json()
    sources = {dl["name"]: dl["source"] for dl in body["deadlines"]}
    assert sources["recommendation_filing"] == "《人民检察院公益诉讼办案规则》（2021）（条文未经核对）"


def test_a_v1_case_moves_to_v2_and_goes_on_under_its_rules(cases, db):
    from engine import migration
    from engine.cases import SYSTEM

    v1 = Flow(cases, tx.start(cases, task_force="two_lakes", workflow="pil_case", actor=OFFICE, title="第1版的案件",
                              version=1, payload={"facts": "f", "procuratorate": "gy_jcy", "agency": "gy_qz_gov"}))
    v1.fire("register_clue", GY_PROC, "evaluating")
    v1.fire("decide_file", GY_CHIEF, "filed", agency="gy_qz_gov", harm="h", duty="d")
    v1.fire("serve_filing", GY_PROC, "investigating", served_on="2026-03-03")
    v1.fire("conclude_investigation", GY_PROC, "investigation_concluded", proposal="发出检察建议", report="r")
    v1.fire("decide_recommendation", GY_CHIEF, "recommendation_decided", recommendation_points=["截污"])
    v1.fire("serve_recommendation", GY_PROC, "awaiting_reply", served_on="2026-03-05", recommendation_no="n")
    v1.fire("record_reply", GY_PROC, "follow_up", reply_received_on="2026-04-20")
    assert v1.case.due_at == end_of(2026, 5, 20)  # v1 counted from the reply
    with db.write() as conn:
        plan = migration.plan(cases, conn, task_force="two_lakes", workflow="pil_case", to_version=2,
                              numbers=[v1.case.number])
        assert plan.problems == []
        migration.apply(cases, conn, plan, SYSTEM, "issue 14: 第2版")
    v1.fire("conclude_review", GY_PROC, "review_concluded", proposal="提起诉讼", report="r")
    case = v1.fire("start_prosecution_review", GY_CHIEF, "prosecution_review", situation="其他",
                   interest_still_harmed=True)
    assert case.due_at == end_of(2026, 6, 8)  # v2: a month from the end of the agency's period (6 May)
    v1.fire("extend_review", GY_CHIEF, "prosecution_extended", reason="案情复杂")
    v1.refused(NotAllowed, "extend_review", GY_CHIEF, reason="再次")
    assert tx.verify(cases) == []
