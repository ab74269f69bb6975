"""Every document kind, issued from a real case moved through the engine, read back out of its PDF."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from pathlib import Path

import pypdf
import pytest

from documents import issuing
from documents.contexts import kinds
from documents.outbox import process_pending
from engine.bootstrap import task_force_folders
from engine.publishing import read_task_force
from tests.documents import scenarios
from tests.documents.pdfs import bands, mm, page_image, page_texts, red_rows, squash
from workflows import ROOT

ISSUED_ON = "2026年3月2日"  # the fixture clock's local date


def issue_all(db, clock) -> dict[str, list[tuple[issuing.DocumentRow, bytes]]]:
    """Run the worker over everything queued; the archived documents by kind, in issue order."""
    outcome = process_pending(db, clock, limit=50)
    assert outcome.failed == ()
    found: dict[str, list[tuple[issuing.DocumentRow, bytes]]] = {}
    for _, document_id in outcome.issued:
        fetched = issuing.fetch(db, document_id)
        assert fetched is not None
        found.setdefault(fetched[0].kind, []).append(fetched)
    return found


def text_of(pdf: bytes) -> str:
    return squash("".join(page_texts(pdf)))


def test_meeting_notice_and_minutes(db, cases, clock):
    case = scenarios.meeting(cases, decisions=5)
    docs = issue_all(db, clock)
    (notice, notice_pdf), = docs["meeting_notice"]
    (minutes, minutes_pdf), = docs["minutes"]
    assert (notice.case_id, notice.history_seq) == (case.id, 2)
    assert notice.number == "联动专班办〔2026〕1号" and minutes.number == "联动专班办纪〔2026〕1号"

    pages = page_texts(notice_pdf)
    text = text_of(notice_pdf)
    assert "甲乙两市跨界水源地保护联动工作专班办公室文件" in text
    assert "联动专班办〔2026〕1号" in text
    assert "关于召开2026年第一季度跨界水源地保护专题会议的通知" in text
    assert "甲市水务局，甲市生态环境局，乙市生态环境局" in text  # 主送: the invitees by name
    assert "定于2026年3月12日（星期四）上午9:30在甲市水务局三楼会议室召开" in text
    assert "三、会议议程" in text and "2.研究部署跨界断面水质加密监测工作。" in text
    assert "附件：参会回执" in text and "（联系人：刘洋，电话0851-12345678）" in text
    assert f"联动专班办公室{ISSUED_ON}" in text
    # The 回执 is an attachment on a page of its own (page 3); the 版记 follows it on the back of
    # that sheet, page 4 (GB/T 9704 §7.4: the last side).
    assert len(pages) == 4
    assert pages[2].lstrip().startswith("附件") and "参会回执" in squash(pages[2])
    assert squash(pages[3]) == f"抄送：甲市人民政府，乙市人民政府。联动专班办公室{ISSUED_ON}印发—4—"

    text = text_of(minutes_pdf)
    assert text.startswith("联动专班会议纪要联动专班办纪〔2026〕1号联动专班办公室" + ISSUED_ON)
    assert "2026年第一季度跨界水源地保护专题会议纪要" in text
    assert "2026年3月12日，甲市人民政府副市长王建国在甲市水务局三楼会议室主持召开" in text
    assert ("一、" + scenarios.DECISION_TEXTS[0] + "。（责任单位：甲市水务局；配合单位：乙市生态环境局、"
            "甲市生态环境局；完成时限：2026年4月30日前）") in text
    assert "五、专班办公室建立问题清单月调度制度" in text and "六、" not in text
    assert "出席：甲市水务局、甲市生态环境局、乙市生态环境局、乙市农业农村局、清水县人民政府副县长李明" in text
    assert "请假：乙市西山区人民政府" in text and "列席：甲市人民检察院、市人大代表张华" in text
    assert text.endswith(f"分送：甲市人民政府，乙市人民政府。联动专班办公室{ISSUED_ON}印发—{len(page_texts(minutes_pdf))}—")


def test_referral_letter_from_the_two_lakes_referral(db, cases, clock):
    case = scenarios.referral(cases)
    (letter, pdf), = issue_all(db, clock)["referral_letter"]
    assert letter.number == "两湖专班办函〔2026〕1号" and letter.issuer_unit == "two_lakes_office"
    assert letter.history_seq == case.version
    pages = page_texts(pdf)
    text = text_of(pdf)
    # The 标志 is condensed (a transform), which pypdf reads out last.
    assert "贵阳贵安—安顺市“两湖”流域水资源环境保护治理联动工作专班办公室" in text
    assert text.startswith("两湖专班办函〔2026〕1号")
    assert "关于移送红枫湖清镇段沿岸生活垃圾堆放问题的函清镇市人民政府：" in text
    assert "我办在工作中发现清镇市红枫湖镇右二村沿岸存在以下问题：联合排查发现红枫湖清镇段右岸约200米" in text
    assert "移送理由：问题位于清镇市辖区，属地政府负责辖区环境卫生整治。" in text
    assert "请于2026年3月31日前将办理结果书面反馈两湖专班办公室。" in text
    assert f"两湖专班办公室{ISSUED_ON}" in text
    # 信函格式: no page number on page 1; red double lines under the 标志 and 20 mm from the bottom.
    assert "— 1 —" not in pages[0]
    red = bands(red_rows(page_image(pdf, dpi=150)))
    (mark_top, mark_bottom), (line_top, _), *_, (_, bottom_line) = [(mm(a, 150), mm(b, 150)) for a, b in red]
    assert mark_top == pytest.approx(30, abs=1)  # the 标志's top edge, from the top of the paper
    assert line_top - mark_bottom == pytest.approx(4, abs=1)  # the double line 4 mm below it
    assert bottom_line == pytest.approx(297 - 20, abs=0.5)


def test_rectification_plan_with_sixty_problems(db, cases, clock):
    scenarios.rectification(cases, problems=60)
    (plan, pdf), = issue_all(db, clock)["rectification_plan"]
    assert plan.number == "联动专班办〔2026〕1号"
    pages = page_texts(pdf)
    text = squash("".join(pages))
    assert "跨界饮用水水源地环境问题整改方案" in text and "联动专班各成员单位：" in text
    assert "（一）实施清理整治。" in text and "附件：问题清单" in text and f"联动专班办公室{ISSUED_ON}" in text

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    landscape = [i for i, page in enumerate(reader.pages) if page.mediabox.width > page.mediabox.height]
    # Two portrait pages of plan, the 问题清单 on landscape pages, the 版记 alone on a last portrait page.
    assert len(pages) == 12
    assert landscape == list(range(2, 11))
    assert pages[2].lstrip().startswith("附件")
    for i in landscape:
        squashed = squash(pages[i])
        assert squashed.startswith("序号所在地水源地名称问题描述整改措施责任单位配合单位整改时限") or i == 2, i
        assert "序号所在地水源地名称问题描述整改措施责任单位配合单位整改时限" in squashed
    # Every problem once, whole, in order; no row split across pages.
    rows = Counter()
    for i in landscape:
        for n in range(1, 61):
            if f"第{n}号点位二级保护区内存在生活污水直排口" in squash(pages[i]):
                rows[n] += 1
    assert sorted(rows) == list(range(1, 61)) and set(rows.values()) == {1}
    assert "第60号点位" in squash(pages[10])
    assert squash(pages[11]) == f"抄送：甲市人民政府，乙市人民政府。联动专班办公室{ISSUED_ON}印发—12—"


LEVEL_COLOURS = {"blue": (0, 80, 179), "yellow": (224, 160, 0), "red": (230, 0, 0)}


def band_colour(pdf: bytes) -> tuple[int, int, int]:
    """The colour of the band at the top of a 督办单 (the first coloured row inside the 版心)."""
    image = page_image(pdf)
    px = image.load()
    x = image.size[0] // 2
    for y in range(int(30 / 25.4 * 72), int(60 / 25.4 * 72)):
        r, g, b = px[x, y]
        if max(r, g, b) - min(r, g, b) > 100:
            return (r, g, b)
    raise AssertionError("no coloured band")


def test_supervision_notices_climb_the_ladder(db, cases, clock):
    case = scenarios.rectification(cases, problems=2)
    for level in ("blue", "yellow", "red"):
        case = scenarios.supervise(cases, case, level)
    notices = issue_all(db, clock)["supervision_notice"]
    assert [n.number for n, _ in notices] == [f"联动专班办督〔2026〕{i}号" for i in (1, 2, 3)]
    for (row, pdf), (level, (title, rung)) in zip(notices, [("blue", ("蓝色督办单", "临期提醒")),
                                                            ("yellow", ("黄色督办单", "黄牌督办")),
                                                            ("red", ("红色督办单", "红牌督办"))], strict=True):
        # Rendered after all three events, each still shows the rung its own event recorded.
        assert row.title == title
        text = text_of(pdf)
        assert f"{title}（{rung}）编号：{row.number}{ISSUED_ON}" in text
        assert "责任单位清水县人民政府" in text and "原定完成时限2026年3月20日" in text
        assert "反馈时限2026年4月10日前书面反馈办理情况" in text and f"联动专班办公室{ISSUED_ON}" in text
        assert len(page_texts(pdf)) == 1
        got = band_colour(pdf)
        assert all(abs(a - b) < 40 for a, b in zip(got, LEVEL_COLOURS[level], strict=True)), (level, got)


def test_circular_notice_and_summons_record(db, cases, clock):
    case = scenarios.rectification(cases, problems=2)
    case = scenarios.circulate(cases, case)
    scenarios.summon(cases, case)
    docs = issue_all(db, clock)
    (circular, circular_pdf), = docs["circular_notice"]
    (record, record_pdf), = docs["summons_record"]
    # The plan took 联动专班办〔2026〕1号: the 通报 is the next 文件 of the office; the record has its own series.
    assert circular.number == "联动专班办〔2026〕2号" and record.number == "联动专班办约〔2026〕1号"
    text = text_of(circular_pdf)
    assert "联动专班办〔2026〕2号关于跨界水源地环境问题整改进展情况的通报联动专班各成员单位：" in text
    assert "一、存在问题部分问题整改逾期" in text and f"联动专班办公室{ISSUED_ON}" in text
    text = text_of(record_pdf)
    assert text.startswith(f"甲乙两市跨界水源地保护联动工作专班办公室约谈记录编号：联动专班办约〔2026〕1号{ISSUED_ON}")
    assert "约谈时间2026年4月15日（星期三）下午3:00" in text and "被约谈单位清水县人民政府" in text
    assert "存在问题1.整改进度严重滞后。2.未按要求报送延期申请。" in text
    assert "约谈人（签字）：被约谈人（签字）：记录人（签字）：" in text
    assert len(page_texts(record_pdf)) == 1


def test_procuratorial_followup_and_the_served_recommendation(db, cases, clock):
    case = scenarios.recommendation(cases)
    (followup, pdf), = issue_all(db, clock)["procuratorial_followup"]
    # Issued by the procuratorate (the case's party), in its own series.
    assert followup.number == "甲市检察院跟〔2026〕1号" and followup.issuer_unit == "d_a_jcy"
    text = text_of(pdf)
    assert text.startswith(f"甲市人民检察院检察建议跟进监督情况表编号：甲市检察院跟〔2026〕1号{ISSUED_ON}")
    assert "被建议单位甲市生态环境局检察建议书文号甲检行公建〔2026〕3号送达日期2026年1月5日" in text
    # Two months from service; the reply came in time.
    assert "回复期限2026年3月5日书面回复2026年2月27日收到（按期）" in text
    assert "1依法履行饮用水水源地监督管理职责" in text
    assert "已落实现场核实已封堵。" in text and "对违法排污行为依法查处。正在落实" in text
    assert "防止问题反弹。待评估" in text
    assert f"承办检察官：周敏甲市人民检察院{ISSUED_ON}" in text

    # The 检察建议书 itself is the procuratorate's: kept as served, with its own number, as evidence.
    served = b"%PDF-1.7\n% served copy of the recommendation, as scanned\n%%EOF\n"
    with db.write() as conn:
        kept = issuing.keep_received(
            conn, case_id=case.id, history_seq=1, kind="procuratorial_recommendation", number="甲检行公建〔2026〕3号",
            title="检察建议书", issuer="甲市人民检察院", issuer_unit="d_a_jcy",
            received_on=dt.date(2026, 1, 5), content=served, now=clock.now())
    row, content = issuing.fetch(db, kept.id)
    assert content == served and row.origin == "received" and row.serial is None
    assert row.number == "甲检行公建〔2026〕3号" and row.template_version is None
    assert [d.kind for d in issuing.of_case(db, case.id)] == ["procuratorial_recommendation", "procuratorial_followup"]


def test_every_kind_named_by_a_workflow_has_a_builder():
    folders = [*task_force_folders(ROOT), Path(__file__).parents[1] / "fixtures" / "docs"]
    named = {kind for folder in folders for d in read_task_force(folder).definitions
             for event in d.events.values() for kind in event.documents}
    assert named and named <= set(kinds())


def test_documents_from_cases_recorded_as_the_two_lakes_workflows_record_them(db, cases, clock):
    """Meetings and the supervision ladder as workflows/two_lakes records them: other key names, the
    rung as the state, no text with the ladder's events."""
    scenarios.joint_meeting(cases)
    scenarios.ladder(cases)
    docs = issue_all(db, clock)
    text = text_of(docs["meeting_notice"][0][1])
    assert "关于召开2026年第一季度联席会议专题会议的通知" in text
    assert "定于2026年3月20日（星期五）下午2:30在乙市生态环境局会议室召开" in text
    assert "三、会议议程1.通报水质监测情况。2.研究异常断面整改措施。" in text
    text = text_of(docs["minutes"][0][1])
    assert "2026年3月20日，2026年第一季度联席会议专题会议在乙市生态环境局会议室召开。会议通报了第一季度水质监测情况。" in text
    assert "议定事项" not in text and "出席：甲市水务局、乙市生态环境局" in text

    yellow, red = (text_of(pdf) for _, pdf in docs["supervision_notice"])
    assert "黄色督办单（黄牌督办）" in yellow and "红色督办单（红牌督办）" in red
    assert "督办事项红枫湖二级保护区排污口封堵责任单位清水县人民政府原定完成时限2026年2月20日" in yellow
    assert "办理情况原定2026年2月20日前完成，截至2026年3月2日已逾期10日，尚未办结。" in yellow
    text = text_of(docs["circular_notice"][0][1])
    assert "关于清水县政府承办事项逾期未办结情况的通报" in text
    assert "清水县人民政府承办的“红枫湖二级保护区排污口封堵”，原定2026年2月20日前完成，经催办、督办，截至2026年3月2日仍未办结。" in text
    text = text_of(docs["summons_record"][0][1])
    assert "被约谈人清水县人民政府县长赵刚" in text and "整改要求1.5月15日前完成封堵。2.每周报送进展。" in text
    assert "整改时限2026年5月15日前" in text and "约谈事由“红枫湖二级保护区排污口封堵”逾期未办结" in text
