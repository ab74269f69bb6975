"""Building document contexts: the case as its event left it, and the formatting rules of 公文."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

import pytest

from documents import contexts, records
from documents.render import title_lines
from tests.documents import scenarios


def test_heading_numerals():
    assert [contexts.cn_numeral(n) for n in (1, 9, 10, 11, 20, 21, 99)] == [
        "一", "九", "十", "十一", "二十", "二十一", "九十九"]
    with pytest.raises(ValueError):
        contexts.cn_numeral(0)


def test_meeting_times_are_beijing_time():
    assert contexts.cn_datetime("2026-03-12T01:30:00Z") == "2026年3月12日（星期四）上午9:30"
    assert contexts.cn_datetime("2026-03-12T12:05:00+08:00") == "2026年3月12日（星期四）中午12:05"
    assert contexts.cn_datetime("2026-03-15T15:00:00") == "2026年3月15日（星期日）下午3:00"


def test_headings_are_recognised_in_free_text():
    assert contexts.blocks(["正文。", "一、目标任务", "（二）逐一核查销号。相关街道建立制度。", " "]) == (
        "正文。", {"level": 1, "text": "一、目标任务"},
        {"level": 2, "text": "（二）逐一核查销号。", "rest": "相关街道建立制度。"})


def test_long_titles_break_between_words_into_balanced_lines():
    assert title_lines("关于跨界水源地环境问题整改进展情况的通报") == ["关于跨界水源地环境问题整改进展情况的通报"]
    assert title_lines("关于移送红枫湖清镇段沿岸生活垃圾堆放问题的函") == ["关于移送红枫湖清镇段沿岸", "生活垃圾堆放问题的函"]
    # Never inside a number, a quoted name or a listed word; never a closing mark at a line start.
    assert title_lines("关于召开2026年第一季度“两湖”流域保护治理联动专题会议的通知") == [
        "关于召开2026年第一季度“两湖”", "流域保护治理联动专题会议的通知"]
    three = title_lines("关于印发贵阳贵安—安顺市“两湖”流域水资源环境保护治理联动机制实施细则及配套工作制度的通知")
    assert len(three) == 3 and all(len(line) <= 20 for line in three)


def test_reply_clock_starts_on_the_date_of_service(db, cases):
    case = scenarios.recommendation(cases)
    with db.read() as conn:
        record = records.load(conn, case.id, 1)
    assert contexts.reply_due(record) == dt.date(2026, 3, 5)
    assert contexts.reply_status(record, dt.date(2026, 3, 5), dt.date(2026, 3, 9)) == "未回复（已逾期4日）"
    assert contexts.reply_status(record, dt.date(2026, 3, 5), dt.date(2026, 3, 1)) == "未回复（距回复期限4日）"
    urgent = records.CaseRecord(**{**record.__dict__, "data": records.freeze({**record.data, "urgent": True})})
    assert contexts.reply_due(urgent) == dt.date(2026, 1, 20)


def test_record_replays_the_case_as_each_row_left_it(db, cases):
    case = scenarios.meeting(cases, decisions=3)
    with db.read() as conn:
        at_notice = records.load(conn, case.id, 2)
        after_two = records.load(conn, case.id, 5)
        latest = records.load(conn, case.id)
    assert at_notice.cause.event == "notify" and at_notice.state == "notified"
    assert "decisions" not in at_notice.data and "attendees" not in at_notice.data
    assert len(after_two.data["decisions"]) == 2 and after_two.state == "held"
    # The replay of the whole history is the case as stored, data and parties alike.
    assert latest.cause.seq == case.version and records.freeze(case.data) == latest.data
    assert isinstance(latest.data, MappingProxyType) and isinstance(latest.data["attendees"], tuple)
    # A value is taken from the issuing event's payload first, then from the case data.
    assert latest.get("copy_to") == ("d_a_gov", "d_b_gov") and latest.get("venue") == "甲市水务局三楼会议室"
    assert latest.task_force.office.code == "d_office" and "d_a_jcy" not in latest.task_force.members
    with pytest.raises(records.MissingData, match="no 'nothing'"):
        latest.require("nothing")


def test_replay_keeps_parties_and_due_dates(db, cases):
    case = scenarios.rectification(cases, problems=3)
    with db.read() as conn:
        record = records.load(conn, case.id)
        at_start = records.load(conn, case.id, 1)
    assert record.parties == {"responsible": ("d_a_qs_gov",)} == at_start.parties
    assert record.due_at == case.due_at and at_start.due_at is None
    assert [p["text"] for p in record.data["problems"]][-1].startswith("第3号点位")
