"""检察监督 v3 (issue 14): the deadlines as the published text of 《人民检察院公益诉讼办案规则》(2021) sets them,
against dates worked out by hand on the 2026 calendar (国庆 1–7 October, 10 October worked; 中秋 25–27 September),
on both databases: the further extension the procuratorate above approves (Art. 47), every kind of entrusted
work whose time does not count (Art. 48), the 起诉书 reported from its delivery to the court (Art. 46) and the
judgment from its receipt (Art. 58); and the verified citations on the case page."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from db.models import Deadline
from db.repositories import definitions as defs_repo
from engine.errors import NotAllowed
from engine.loader import load_definition_file
from tests import tx
from tests.api.conftest import accounts, app, client, settings  # noqa: F401
from tests.conftest import end_of, local
from tests.pages.test_pages import sign_in
from tests.workflows.flow import GY_CHIEF, GY_PROC, OFFICE, Flow

V3 = Path("workflows/two_lakes/definitions/pil_case.v3.yaml")


def served(cases, served_on):
    c = Flow.start(cases, "pil_case", OFFICE, "清镇市红枫湖沿岸污水直排", facts="沿岸生活污水长期直排",
                   procuratorate="gy_jcy", agency="gy_qz_gov", clue_type="国家机关转交")
    c.fire("register_clue", GY_PROC, "evaluating")
    c.fire("decide_file", GY_CHIEF, "filed", agency="gy_qz_gov", harm="饮用水源受污染", duty="属地水污染防治职责")
    c.fire("serve_filing", GY_PROC, "investigating", served_on=served_on)
    c.fire("conclude_investigation", GY_PROC, "investigation_concluded", proposal="发出检察建议", report="调查终结报告")
    c.fire("decide_recommendation", GY_CHIEF, "recommendation_decided", recommendation_points=["限期完成截污"])
    c.fire("serve_recommendation", GY_PROC, "awaiting_reply", served_on=served_on,
           recommendation_no="清检行公建〔2026〕7号")
    return c


def due(db, c, name):
    with db.read() as conn:
        return conn.execute(select(Deadline.due_at, Deadline.status).where(
            Deadline.case_id == c.id, Deadline.name == name)).one()


def to_prosecution_review(cases, c, replied_on):
    c.fire("record_reply", GY_PROC, "follow_up", reply_received_on=replied_on, reply_summary="已制定整改方案")
    c.fire("conclude_review", GY_PROC, "review_concluded", proposal="提起诉讼", report="仍未履职")
    return c.fire("start_prosecution_review", GY_CHIEF, "prosecution_review", situation="回复后未采取或仅部分采取措施",
                  interest_still_harmed=True)


def test_new_cases_start_on_v3_whose_sources_cite_the_published_articles():
    d = load_definition_file(V3)
    assert d.version == 3
    assert all(s.source.verified and s.source.article for s in d.deadlines.values())
    assert d.deadlines["sue_by_upper"].source.article == "第四十七条"
    appraisal = next(e for e in d.raw["events"] if e["name"] == "start_appraisal")
    assert appraisal["fields"]["kind"]["choices"] == ["鉴定", "评估", "审计", "检验", "检测", "翻译"]


def test_review_runs_into_national_day_a_translation_pauses_it_and_the_procuratorate_above_extends(cases, db):
    cases.clock.set(local(2026, 7, 1, 9))
    c = served(cases, "2026-07-01")
    with db.read() as conn:
        assert defs_repo.row_of(conn, c.case.definition_id) == ("two_lakes", "pil_case", 3)
    # Two months from Wed 1 July: Tue 1 September.
    assert due(db, c, "reply") == (end_of(2026, 9, 1), "running")
    cases.clock.set(local(2026, 8, 20, 9))
    case = to_prosecution_review(cases, c, "2026-08-20")
    # A month from the end of the agency's period (1 Sept) ends Thu 1 Oct, 国庆: the first working day after
    # the holiday, Thu 8 Oct (Art. 47: 自检察建议整改期满之日起计算).
    assert case.due_at == end_of(2026, 10, 8) == due(db, c, "sue_by")[0]

    # 翻译 from 10 to 20 September does not count (Art. 48): ten days. 1 Oct + 10 = Sun 11 Oct: Mon 12 Oct.
    cases.clock.set(local(2026, 9, 10, 9))
    c.fire("start_appraisal", GY_PROC, "prosecution_review", kind="翻译", institution="某翻译公司")
    assert due(db, c, "sue_by")[1] == "paused"
    cases.clock.set(local(2026, 9, 20, 9))  # a Sunday worked for 国庆
    c.fire("finish_appraisal", GY_PROC, "prosecution_review", summary="译文已收到")
    assert due(db, c, "sue_by") == (end_of(2026, 10, 12), "running")

    # The 检察长 extends by a month: Thu 12 Nov. Beyond that only the procuratorate above may approve (Art. 47),
    # to the date its approval sets; it is not the 检察长's own extension again.
    cases.clock.set(local(2026, 10, 9, 9))
    assert c.fire("extend_review", GY_CHIEF, "prosecution_extended", reason="案情复杂").due_at == end_of(2026, 11, 12)
    refused = c.refused(NotAllowed, "extend_review", GY_CHIEF, reason="再次延长")
    assert "upper_extend_review" in refused.allowed and "extend_review" not in refused.allowed
    cases.clock.set(local(2026, 11, 10, 9))
    case = c.fire("upper_extend_review", GY_PROC, "prosecution_extended_upper", approval_no="黔检公复〔2026〕3号",
                  new_due="2026-12-10", reason="需补充鉴定")
    assert case.due_at == end_of(2026, 12, 10) == due(db, c, "sue_by_upper")[0]
    assert due(db, c, "sue_by_extended")[1] == "met"
    refused = c.refused(NotAllowed, "upper_extend_review", GY_PROC, approval_no="x", new_due="2027-01-10", reason="x")
    assert "file_suit" in refused.allowed

    # 检验 is one of the kinds that stop the clock too: 20 Nov to 25 Nov, five days, 10 Dec + 5 = Tue 15 Dec.
    cases.clock.set(local(2026, 11, 20, 9))
    c.fire("start_appraisal", GY_PROC, "prosecution_extended_upper", kind="检验", institution="某检验机构")
    assert due(db, c, "sue_by_upper")[1] == "paused"
    cases.clock.set(local(2026, 11, 25, 9))
    c.fire("finish_appraisal", GY_PROC, "prosecution_extended_upper", summary="检验报告已收到")
    assert due(db, c, "sue_by_upper") == (end_of(2026, 12, 15), "running")

    # The 起诉书 is reported within 5 days of its delivery to the court (Art. 46): delivered Mon 30 Nov, the
    # suit recorded on 1 Dec: 5 days end Sat 5 Dec: Mon 7 Dec (from the recording it would be Mon 7 Dec too,
    # see the next test for a case where they differ).
    cases.clock.set(local(2026, 12, 1, 9))
    c.fire("file_suit", GY_CHIEF, "suit_filed", court="清镇市人民法院", claims=["责令履行职责"], delivered_on="2026-11-30")
    assert due(db, c, "sue_by_upper")[1] == "met"
    assert due(db, c, "indictment_report") == (end_of(2026, 12, 7), "running")
    assert tx.verify(cases) == []


def test_the_indictment_counts_from_its_delivery_to_the_court_across_national_day(cases, db):
    cases.clock.set(local(2026, 7, 1, 9))
    c = served(cases, "2026-07-01")
    cases.clock.set(local(2026, 8, 20, 9))
    to_prosecution_review(cases, c, "2026-08-20")
    # Delivered to the court on Wed 30 Sept, recorded here on Thu 8 Oct: 5 days from delivery end Mon 5 Oct,
    # inside 国庆: Thu 8 Oct — not Tue 13 Oct, five days from the recording.
    cases.clock.set(local(2026, 10, 8, 9))
    c.fire("file_suit", GY_CHIEF, "suit_filed", court="清镇市人民法院", claims=["确认违法"], delivered_on="2026-09-30")
    assert due(db, c, "indictment_report") == (end_of(2026, 10, 8), "running")
    c.fire("report_indictment", GY_PROC, "suit_filed")
    assert due(db, c, "indictment_report")[1] == "met"


def test_the_judgment_is_reported_within_3_days_of_its_receipt_across_national_day(cases, db):
    cases.clock.set(local(2026, 3, 5, 9))
    c = served(cases, "2026-03-05")
    cases.clock.set(local(2026, 4, 20, 9))
    to_prosecution_review(cases, c, "2026-04-20")
    cases.clock.set(local(2026, 6, 1, 9))
    c.fire("file_suit", GY_CHIEF, "suit_filed", court="清镇市人民法院", claims=["责令履行职责"])
    # Without a delivery date the 5 days run from the recording: Mon 1 June to Sat 6 June: Mon 8 June.
    assert due(db, c, "indictment_report") == (end_of(2026, 6, 8), "running")
    c.fire("court_accepts", GY_PROC, "in_trial", accepted_on="2026-06-10")
    # Judged Fri 25 Sept (中秋), received Mon 28 Sept: 3 days end Thu 1 Oct, 国庆: Thu 8 Oct. Counted from the
    # judgment date, as v2 did, it would have ended Mon 28 Sept.
    cases.clock.set(local(2026, 9, 29, 9))
    c.fire("judgment", GY_PROC, "judged", outcome="责令履行职责", judged_on="2026-09-25",
           judgment_received_on="2026-09-28")
    assert due(db, c, "judgment_report") == (end_of(2026, 10, 8), "running")
    c.fire("report_judgment", GY_PROC, "judged")
    assert due(db, c, "judgment_report")[1] == "met"
    assert tx.verify(cases) == []


def test_the_case_page_and_the_api_show_the_verified_articles(cases, client):  # noqa: F811
    cases.clock.set(local(2026, 3, 5, 9))
    c = served(cases, "2026-03-05")
    sign_in(client, "procurator")
    page = client.get(f"/case/{c.id}").text
    table = re.search(r'<table data-testid="deadlines">.*?</table>', page, re.S).group(0)
    row = next(r for r in table.split("<tr>") if "报上一级人民检察院备案" in r)
    assert ('<td data-testid="deadline-source">《人民检察院公益诉讼办案规则》（2021）第七十五条：'
            "于《检察建议书》送达之日起五日内向上一级人民检察院备案</td>") in row
    assert "未经核对" not in table.replace("2020年修正本未对照", "")
    body = client.get(f"/cases/{c.id}").json()
    sources = {dl["name"]: dl["source"] for dl in body["deadlines"]}
    assert sources["reply"].startswith("《最高人民法院、最高人民检察院关于检察公益诉讼案件适用法律若干问题的解释》（2018）第二十一条")
