"""Deadline calendar tests.

Every expected date below is written out literally and was checked by hand against
国务院办公厅关于2026年部分节假日安排的通知 (dated 2025-11-04, published by 新华社):

    元旦   1月1日(周四)–3日(周六) 放假调休，共3天；1月4日(周日)上班。
    春节   2月15日(周日)–23日(周一) 放假调休，共9天；2月14日(周六)、2月28日(周六)上班。
    清明节 4月4日(周六)–6日(周一) 放假，共3天。
    劳动节 5月1日(周五)–5日(周二) 放假调休，共5天；5月9日(周六)上班。
    端午节 6月19日(周五)–21日(周日) 放假，共3天。
    中秋节 9月25日(周五)–27日(周日) 放假，共3天。
    国庆节 10月1日(周四)–7日(周三) 放假调休，共7天；9月20日(周日)、10月10日(周六)上班。

A due date expressed in days ends at 23:59:59.999999 Asia/Shanghai (UTC+8, no DST), i.e.
15:59:59.999999 UTC of the same date.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import (
    DEFAULT_CALENDAR_DIR,
    CalendarDataError,
    Due,
    WorkCalendar,
    YearSchedule,
    default_calendar,
)
from engine.localtime import LOCAL_TZ, end_of_local_day, local_date

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "scripts" / "seed-calendar"
SH = ZoneInfo("Asia/Shanghai")


def eod_utc(y: int, m: int, d: int) -> datetime:
    """End of local day y-m-d, written in UTC (local 23:59:59.999999 = UTC 15:59:59.999999)."""
    return datetime(y, m, d, 15, 59, 59, 999999, tzinfo=UTC)


LIBRARY_YEARS = range(2004, 2027)  # what chinese-calendar 1.11.0 covers


def _library_years_calendar() -> WorkCalendar:
    """The packaged schedules for 2004–2026 only, so tests about "a year without a file" (2027, 2031)
    keep passing after the office adds newer files."""
    default = default_calendar()
    return WorkCalendar(s for y in LIBRARY_YEARS if (s := default.schedule(y)) is not None)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return _library_years_calendar()


# --------------------------------------------------------------------------- data


def test_packaged_2026_file_matches_the_state_council_notice(cal: WorkCalendar) -> None:
    s = cal.schedule(2026)
    assert s is not None
    days_off = {
        date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3),
        *(date(2026, 2, d) for d in range(15, 24)),
        date(2026, 4, 4), date(2026, 4, 5), date(2026, 4, 6),
        *(date(2026, 5, d) for d in range(1, 6)),
        date(2026, 6, 19), date(2026, 6, 20), date(2026, 6, 21),
        date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27),
        *(date(2026, 10, d) for d in range(1, 8)),
    }  # fmt: skip
    make_up = {
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
        date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10),
    }  # fmt: skip
    assert set(s.holidays) == days_off
    assert set(s.workdays) == make_up
    assert s.holidays[date(2026, 2, 17)] == "春节"
    assert s.workdays[date(2026, 2, 14)] == "春节"
    assert s.source == "chinese-calendar 1.11.0"
    # Weekdays shifted off by 调休 (the statutory days themselves are not flagged).
    assert s.in_lieu == {
        date(2026, 1, 2), date(2026, 2, 20), date(2026, 2, 23),
        date(2026, 5, 5), date(2026, 10, 6), date(2026, 10, 7),
    }  # fmt: skip


def test_packaged_years_are_what_the_library_covers(cal: WorkCalendar) -> None:
    # chinese-calendar 1.11.0 covers 2004–2026; every one of those years is packaged.
    assert cal.years == frozenset(LIBRARY_YEARS)
    packaged = default_calendar().years
    assert packaged >= frozenset(LIBRARY_YEARS)
    assert sorted(p.name for p in DEFAULT_CALENDAR_DIR.glob("*.yaml")) == [
        f"{y}.yaml" for y in sorted(packaged)
    ]
    assert cal.has_schedule(2026)
    assert cal.has_schedule(2020)
    assert cal.has_schedule(2004)
    assert not cal.has_schedule(2003)
    assert not cal.has_schedule(2027)
    assert not cal.has_schedule(2031)


def test_default_calendar_is_loaded_once() -> None:
    assert WorkCalendar.default() is default_calendar()


def test_working_days_in_2026(cal: WorkCalendar) -> None:
    # 261 weekdays (365 days from a Thursday), minus 19 holidays on weekdays
    # (1/1, 1/2; 2/16–20, 2/23; 4/6; 5/1, 5/4, 5/5; 6/19; 9/25; 10/1, 10/2, 10/5–7), plus 6 make-up days.
    assert cal.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 248


# --------------------------------------------------------------------------- is_working_day


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 2, 13), True),  # Friday
        (date(2026, 2, 14), True),  # Saturday, 调休 working day
        (date(2026, 2, 15), False),  # Sunday, Spring Festival
        (date(2026, 2, 16), False),  # Monday, Spring Festival
        (date(2026, 2, 20), False),  # Friday shifted off
        (date(2026, 2, 23), False),  # Monday shifted off
        (date(2026, 2, 24), True),  # Tuesday, back to work
        (date(2026, 2, 28), True),  # Saturday, 调休 working day
        (date(2026, 3, 7), False),  # ordinary Saturday
        (date(2026, 3, 8), False),  # ordinary Sunday
        (date(2026, 10, 7), False),  # National Day
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, 调休 working day
    ],
)
def test_is_working_day(cal: WorkCalendar, d: date, expected: bool) -> None:
    assert cal.is_working_day(d) is expected


def test_is_working_day_uses_the_shanghai_date_of_a_datetime(cal: WorkCalendar) -> None:
    # 2026-02-14T16:30Z is 2026-02-15 00:30 in Shanghai: Spring Festival, although 02-14 works.
    assert cal.is_working_day(datetime(2026, 2, 14, 16, 30, tzinfo=UTC)) is False
    assert cal.is_working_day(datetime(2026, 2, 14, 15, 30, tzinfo=UTC)) is True
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.is_working_day(datetime(2026, 2, 14, 12, 0))


def test_holiday_name_and_next_working_day(cal: WorkCalendar) -> None:
    assert cal.holiday_name(date(2026, 10, 3)) == "国庆节"
    assert cal.holiday_name(date(2026, 10, 8)) is None
    assert cal.holiday_name(date(2031, 1, 1)) is None
    assert cal.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert cal.next_working_day(date(2026, 2, 13)) == date(2026, 2, 14)


# --------------------------------------------------------------------------- working_day


def test_make_up_saturday_2026_02_14_counts(cal: WorkCalendar) -> None:
    due = cal.add(datetime(2026, 2, 13, 10, 0, tzinfo=SH), 1, "working_day")
    assert due == Due(at=eod_utc(2026, 2, 14), provisional=False)
    assert due.local_date == date(2026, 2, 14)


def test_spring_festival_weekdays_are_skipped(cal: WorkCalendar) -> None:
    # From Wednesday 2026-02-11: 2/12 Thu (1), 2/13 Fri (2), 2/14 Sat 调休 (3),
    # 2/15–2/23 Spring Festival, 2/24 Tue (4), 2/25 Wed (5).
    due = cal.add(datetime(2026, 2, 11, 9, 0, tzinfo=SH), 5, "working_day")
    assert due.at == eod_utc(2026, 2, 25)
    assert due.at.tzinfo is UTC
    assert due.at.astimezone(SH) == datetime(2026, 2, 25, 23, 59, 59, 999999, tzinfo=SH)
    assert not due.provisional
    assert cal.working_days_between(date(2026, 2, 11), date(2026, 2, 25)) == 5
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2  # 2/14 and 2/24


def test_working_day_start_day_never_counts_even_at_midnight(cal: WorkCalendar) -> None:
    # 00:00:00 local on Monday 2026-03-02: Monday still does not count.
    due = cal.add(datetime(2026, 3, 2, 0, 0, tzinfo=SH), 1, "working_day")
    assert due.at == eod_utc(2026, 3, 3)
    # Start on a holiday (2026-10-03): counting begins on the next day; 10/8 is the first working day.
    assert cal.add(datetime(2026, 10, 3, 12, 0, tzinfo=SH), 1, "working_day").at == eod_utc(2026, 10, 8)


def test_start_is_converted_to_shanghai_before_counting(cal: WorkCalendar) -> None:
    # 2026-02-12T16:30Z = Friday 2026-02-13 00:30 local, so the start day is Friday 2/13.
    assert cal.add(datetime(2026, 2, 12, 16, 30, tzinfo=UTC), 1, "working_day").at == eod_utc(2026, 2, 14)
    # 2026-02-12T15:30Z = Thursday 2026-02-12 23:30 local, so the start day is Thursday 2/12.
    assert cal.add(datetime(2026, 2, 12, 15, 30, tzinfo=UTC), 1, "working_day").at == eod_utc(2026, 2, 13)


# --------------------------------------------------------------------------- calendar_day


def test_calendar_day_ending_on_national_day_moves_to_next_working_day(cal: WorkCalendar) -> None:
    # 15 days from Wednesday 2026-09-16: the last day is 2026-10-01 (国庆节). 10/1–10/7 are days off,
    # so the period ends on Thursday 2026-10-08 (民事诉讼法 Art. 85).
    due = cal.add(datetime(2026, 9, 16, 10, 0, tzinfo=SH), 15, "calendar_day")
    assert due == Due(at=eod_utc(2026, 10, 8), provisional=False)


def test_calendar_day_local_start_day(cal: WorkCalendar) -> None:
    # 2026-09-15T16:30Z is 2026-09-16 00:30 local: same as above.
    assert cal.add(datetime(2026, 9, 15, 16, 30, tzinfo=UTC), 15, "calendar_day").at == eod_utc(2026, 10, 8)
    # 2026-09-15T15:30Z is 2026-09-15 23:30 local: the last day is Wednesday 2026-09-30, a working day.
    assert cal.add(datetime(2026, 9, 15, 15, 30, tzinfo=UTC), 15, "calendar_day").at == eod_utc(2026, 9, 30)


def test_calendar_day_ending_on_rest_day_or_make_up_day(cal: WorkCalendar) -> None:
    # 7 days from Sunday 2026-03-01 ends on Sunday 2026-03-08, an ordinary rest day -> Monday 03-09.
    assert cal.add(datetime(2026, 3, 1, 9, 0, tzinfo=SH), 7, "calendar_day").at == eod_utc(2026, 3, 9)
    # 10 days from 2026-09-30 ends on Saturday 2026-10-10, a 调休 working day: no extension.
    assert cal.add(datetime(2026, 9, 30, 9, 0, tzinfo=SH), 10, "calendar_day").at == eod_utc(2026, 10, 10)
    # 3 days from Tuesday 2026-03-03 ends on Friday 2026-03-06.
    assert cal.add(datetime(2026, 3, 3, 9, 0, tzinfo=SH), 3, "calendar_day").at == eod_utc(2026, 3, 6)


# --------------------------------------------------------------------------- month


def test_two_months_from_31_december_2025(cal: WorkCalendar) -> None:
    # relativedelta clamps 2026-02-31 to 2026-02-28 (民法典 Art. 202: no corresponding day -> month end).
    # 2026-02-28 is a Saturday, but the 2026 notice makes it a working day (2月28日(周六)上班).
    # 民事诉讼法 Art. 85 / 民法典 Art. 203 extend only a period whose last day is a 法定休假日; a
    # make-up working Saturday is not one, so the deadline stays at the end of 2026-02-28.
    due = cal.add(datetime(2025, 12, 31, 10, 0, tzinfo=SH), 2, "month")
    assert cal.is_working_day(date(2026, 2, 28))
    assert due == Due(at=eod_utc(2026, 2, 28), provisional=False)


def test_month_clamping_in_a_leap_year(cal: WorkCalendar) -> None:
    # 2024 is a leap year: two months from 2023-12-31 ends on Thursday 2024-02-29.
    assert cal.add(datetime(2023, 12, 31, 10, 0, tzinfo=SH), 2, "month").at == eod_utc(2024, 2, 29)
    # One month from 2026-03-31 ends on Thursday 2026-04-30.
    assert cal.add(datetime(2026, 3, 31, 10, 0, tzinfo=SH), 1, "month").at == eod_utc(2026, 4, 30)


def test_month_ending_on_holiday_is_extended(cal: WorkCalendar) -> None:
    # One month from 2026-01-15 ends on 2026-02-15 (Sunday, Spring Festival) -> Tuesday 2026-02-24.
    assert cal.add(datetime(2026, 1, 15, 10, 0, tzinfo=SH), 1, "month").at == eod_utc(2026, 2, 24)
    # Two months from 2026-08-01 ends on 2026-10-01 (国庆节) -> 2026-10-08.
    assert cal.add(datetime(2026, 8, 1, 10, 0, tzinfo=SH), 2, "month").at == eod_utc(2026, 10, 8)


# --------------------------------------------------------------------------- hour


def test_hours_are_plain_elapsed_time(cal: WorkCalendar) -> None:
    # 48 hours across the Spring Festival: holidays do not matter.
    due = cal.add(datetime(2026, 2, 14, 10, 0, tzinfo=SH), 48, "hour")
    assert due == Due(at=datetime(2026, 2, 16, 2, 0, tzinfo=UTC), provisional=False)
    assert due.at.tzinfo is UTC
    # Any aware timezone is accepted; the result is in UTC.
    due = cal.add(datetime(2026, 2, 14, 3, 0, tzinfo=timezone(timedelta(hours=1))), 1, "hour")
    assert due.at == datetime(2026, 2, 14, 3, 0, tzinfo=UTC)
    # Hours are never provisional.
    assert not cal.add(datetime(2031, 1, 1, tzinfo=SH), 2, "hour").provisional


# --------------------------------------------------------------------------- provisional years


def test_year_without_schedule_is_provisional_and_weekends_only(cal: WorkCalendar, tmp_path: Path) -> None:
    start = datetime(2031, 1, 1, 9, 0, tzinfo=SH)  # Wednesday
    # Weekends only: 1/2 Thu (1), 1/3 Fri (2), 1/6 Mon (3), 1/7 Tue (4), 1/8 Wed (5). 1/1 itself is the start.
    due = cal.add(start, 5, "working_day")
    assert due == Due(at=eod_utc(2031, 1, 8), provisional=True)
    assert cal.is_working_day(date(2031, 1, 1))  # nothing is guessed for a year without a file
    assert cal.missing_years(date(2030, 12, 1), date(2031, 2, 1)) == frozenset({2030, 2031})

    # The office loads a 2031 file (hypothetical content, for the test: 1/2 is shifted off).
    for p in DEFAULT_CALENDAR_DIR.glob("*.yaml"):
        (tmp_path / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "2031.yaml").write_text(
        "year: 2031\n"
        "source: test fixture, not the real 2031 notice\n"
        "holidays:\n"
        "  - {date: 2031-01-01, name: 元旦}\n"
        "  - {date: 2031-01-02, name: 元旦, in_lieu: true}\n"
        "workdays:\n"
        "  - {date: 2031-01-04, name: 元旦}\n",
        encoding="utf-8",
    )
    loaded = WorkCalendar.from_dir(tmp_path)
    assert loaded.has_schedule(2031)
    # 1/3 Fri (1), 1/4 Sat make-up (2), 1/6 Mon (3), 1/7 Tue (4), 1/8 Wed (5).
    assert loaded.add(start, 5, "working_day") == Due(at=eod_utc(2031, 1, 8), provisional=False)
    assert loaded.add(start, 6, "working_day") == Due(at=eod_utc(2031, 1, 9), provisional=False)

    # Same thing without touching disk.
    schedule = YearSchedule.from_file(tmp_path / "2031.yaml")
    assert cal.with_schedule(schedule).add(start, 5, "working_day").provisional is False
    assert not cal.has_schedule(2031)  # the original calendar is unchanged


def test_crossing_into_a_year_without_schedule_is_provisional(cal: WorkCalendar) -> None:
    # From Monday 2026-12-28: 12/29 (1), 12/30 (2), 12/31 (3), Fri 2027-01-01 (4: no 2027 file, so
    # weekends only), Mon 2027-01-04 (5).
    due = cal.add(datetime(2026, 12, 28, 9, 0, tzinfo=SH), 5, "working_day")
    assert due == Due(at=eod_utc(2027, 1, 4), provisional=True)
    # Staying inside 2026: 12/22, 12/23, 12/24, 12/25, 12/28.
    due = cal.add(datetime(2026, 12, 21, 9, 0, tzinfo=SH), 5, "working_day")
    assert due == Due(at=eod_utc(2026, 12, 28), provisional=False)
    # calendar_day: 20 days from 2026-12-20 ends on Saturday 2027-01-09 -> Monday 2027-01-11, provisional.
    due = cal.add(datetime(2026, 12, 20, 9, 0, tzinfo=SH), 20, "calendar_day")
    assert due == Due(at=eod_utc(2027, 1, 11), provisional=True)
    due = cal.add(datetime(2026, 12, 1, 9, 0, tzinfo=SH), 10, "calendar_day")
    assert due == Due(at=eod_utc(2026, 12, 11), provisional=False)
    # month: 1 month from 2026-12-15 is 2027-01-15, provisional.
    assert cal.add(datetime(2026, 12, 15, 9, 0, tzinfo=SH), 1, "month").provisional


# --------------------------------------------------------------------------- between / subtract


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert cal.working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5  # Tue–Fri + Mon
    assert cal.working_days_between(date(2026, 3, 9), date(2026, 3, 2)) == -5
    # "N working days overdue": due end of 2026-09-30, today 2026-10-09 -> 10/8, 10/9.
    now = datetime(2026, 10, 9, 10, 0, tzinfo=SH)
    assert cal.working_days_between(eod_utc(2026, 9, 30), now) == 2
    # The 2026 Spring Festival week and the two make-up Saturdays.
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6  # 2/14, 2/24–27, 2/28


def test_subtract_working_days(cal: WorkCalendar) -> None:
    due = eod_utc(2026, 2, 25)
    # Working days back from 2/25: 2/25, 2/24, 2/14 (Sat, 调休), 2/13, 2/12 -> the day before is 2/11.
    assert cal.subtract_working_days(due, 5) == eod_utc(2026, 2, 11)
    assert cal.subtract_working_days(due, 2) == eod_utc(2026, 2, 14)
    assert cal.subtract_working_days(due, 0) == due
    # Time of day is kept: 10:00 Monday 2026-03-02 minus 1 working day -> 10:00 Saturday 2026-02-28 (调休).
    got = cal.subtract_working_days(datetime(2026, 3, 2, 10, 0, tzinfo=SH), 1)
    assert got == datetime(2026, 2, 28, 2, 0, tzinfo=UTC)
    assert got.tzinfo is UTC
    # Round trip: warning day + 3 working days = due.
    due = cal.add(datetime(2026, 9, 16, tzinfo=SH), 15, "calendar_day").at  # end of 2026-10-08
    warn = cal.subtract_working_days(due, 3)
    # At the end of Monday 9/28 three working days are left: 9/29, 9/30 and 10/8 (10/1–10/7 off).
    assert warn == eod_utc(2026, 9, 28)
    assert cal.add(warn, 3, "working_day").at == due
    with pytest.raises(ValueError):
        cal.subtract_working_days(due, -1)


# --------------------------------------------------------------------------- errors, immutability


def test_argument_errors(cal: WorkCalendar) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
    with pytest.raises(ValueError, match="unknown unit"):
        cal.add(start, 1, "week")
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add(datetime(2026, 3, 2, 9, 0), 1, "working_day")
    with pytest.raises(ValueError, match="positive"):
        cal.add(start, 0, "calendar_day")
    with pytest.raises(TypeError):
        cal.add(start, True, "calendar_day")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cal.add(date(2026, 3, 2), 1, "calendar_day")  # type: ignore[arg-type]


def test_calendar_and_due_are_immutable(cal: WorkCalendar) -> None:
    with pytest.raises(AttributeError):
        cal._holidays = frozenset()  # type: ignore[misc]
    due = cal.add(datetime(2026, 3, 2, tzinfo=SH), 1, "hour")
    with pytest.raises(AttributeError):
        due.provisional = True  # type: ignore[misc]
    s = cal.schedule(2026)
    assert s is not None
    with pytest.raises(TypeError):
        s.holidays[date(2026, 3, 2)] = "x"  # type: ignore[index]


def _mapping(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "year": 2030,
        "source": "test",
        "holidays": [{"date": date(2030, 1, 1), "name": "元旦"}],
        "workdays": [{"date": date(2030, 1, 5), "name": "元旦"}],  # a Saturday
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"workdays": [{"date": date(2030, 1, 7), "name": "x"}]}, "Saturday or Sunday"),  # Monday
        ({"holidays": [{"date": date(2031, 1, 1), "name": "元旦"}]}, "not in year 2030"),
        ({"holidays": [{"date": "2030-13-01", "name": "元旦"}]}, "invalid date"),
        ({"holidays": [{"date": date(2030, 1, 5), "name": "x"}]}, "both holiday and workday"),
        ({"holidays": [{"date": date(2030, 1, 1)}]}, "required"),
        ({"holidays": [{"date": date(2030, 1, 1), "name": "元旦", "half": True}]}, "unknown keys"),
        (
            {"holidays": [{"date": date(2030, 1, 1), "name": "a"}, {"date": "2030-01-01", "name": "b"}]},
            "twice",
        ),
        ({"source": ""}, "source"),
        ({"year": "2030"}, "year"),
        ({"extra": 1}, "unknown keys"),
    ],
)
def test_schedule_validation(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarDataError, match=message):
        YearSchedule.from_mapping(_mapping(**overrides))


def test_schedule_accepts_string_dates_and_empty_lists() -> None:
    s = YearSchedule.from_mapping(_mapping(holidays=[{"date": "2030-01-01", "name": "元旦"}], workdays=None))
    assert dict(s.holidays) == {date(2030, 1, 1): "元旦"}
    assert dict(s.workdays) == {}


def test_from_dir_rejects_misnamed_files(tmp_path: Path) -> None:
    (tmp_path / "2030.yaml").write_text(
        "year: 2029\nsource: t\nholidays: []\nworkdays: []\n", encoding="utf-8"
    )
    with pytest.raises(CalendarDataError, match="file name says 2030"):
        WorkCalendar.from_dir(tmp_path)
    (tmp_path / "2030.yaml").unlink()
    (tmp_path / "holidays.yaml").write_text("year: 2030\n", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="<year>.yaml"):
        WorkCalendar.from_dir(tmp_path)


def test_helpers() -> None:
    assert end_of_local_day(date(2026, 1, 1)) == eod_utc(2026, 1, 1)
    assert local_date(datetime(2026, 1, 1, 16, 0, tzinfo=UTC)) == date(2026, 1, 2)
    assert local_date(date(2026, 1, 1)) == date(2026, 1, 1)
    assert LOCAL_TZ.key == "Asia/Shanghai"


# --------------------------------------------------------------------------- properties

_ZONES = st.sampled_from([UTC, SH, ZoneInfo("America/New_York"), timezone(timedelta(hours=14))])
_STARTS = st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2026, 12, 31), timezones=_ZONES)


@settings(max_examples=300, deadline=None)
@given(start=_STARTS, n=st.integers(min_value=1, max_value=400))
def test_property_add_working_days(start: datetime, n: int) -> None:
    cal = _library_years_calendar()
    due = cal.add(start, n, "working_day")
    day = due.local_date
    assert due.at == end_of_local_day(day)
    assert cal.is_working_day(day)
    assert cal.working_days_between(local_date(start), day) == n
    # Every day counted is in a covered year unless the result ran past 2026.
    assert due.provisional is (day.year > 2026)
    # Inverse: n working days before the due date is a working day from which we get the same due.
    warn = cal.subtract_working_days(due.at, n)
    assert cal.is_working_day(warn)
    assert cal.add(warn, n, "working_day").at == due.at


@settings(max_examples=200, deadline=None)
@given(
    start=_STARTS, n=st.integers(min_value=1, max_value=120), unit=st.sampled_from(["calendar_day", "month"])
)
def test_property_calendar_periods_end_on_first_working_day(start: datetime, n: int, unit: str) -> None:
    cal = _library_years_calendar()
    due = cal.add(start, n, unit)
    first = local_date(start)
    last = first + (timedelta(days=n) if unit == "calendar_day" else relativedelta(months=n))
    assert due.at == end_of_local_day(due.local_date)
    assert cal.is_working_day(due.local_date)
    assert due.local_date >= last
    d = last
    while d < due.local_date:  # everything skipped is a rest day or holiday
        assert not cal.is_working_day(d)
        d += timedelta(days=1)
    assert due.provisional is bool(cal.missing_years(last, due.local_date))


@settings(max_examples=200, deadline=None)
@given(
    a=st.dates(min_value=date(2002, 1, 1), max_value=date(2028, 12, 31)),
    span=st.integers(min_value=-120, max_value=120),
)
def test_property_working_days_between_matches_day_by_day_count(a: date, span: int) -> None:
    cal = _library_years_calendar()
    b = a + timedelta(days=span)
    lo, hi = sorted((a, b))
    naive = sum(cal.is_working_day(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
    assert cal.working_days_between(a, b) == (naive if b >= a else -naive)


# --------------------------------------------------------------------------- seed script


def _seed(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(SEED), *args], capture_output=True, text=True, env=env, cwd=REPO, check=False
    )


def test_seed_script_reproduces_packaged_files_and_never_clobbers(tmp_path: Path) -> None:
    assert os.access(SEED, os.X_OK)
    r = _seed("--from", "2025", "--to", "2026", "--dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    for y in (2025, 2026):
        assert (tmp_path / f"{y}.yaml").read_text(encoding="utf-8") == (
            DEFAULT_CALENDAR_DIR / f"{y}.yaml"
        ).read_text(encoding="utf-8")

    r = _seed("--from", "2025", "--to", "2026", "--dir", str(tmp_path))
    assert r.returncode == 0 and "unchanged" in r.stdout

    edited = tmp_path / "2026.yaml"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("chinese-calendar 1.11.0", "国务院办公厅通知")
    )
    r = _seed("--from", "2026", "--to", "2026", "--dir", str(tmp_path))
    assert r.returncode == 1 and "--force" in r.stderr
    assert "国务院办公厅通知" in edited.read_text(encoding="utf-8")

    r = _seed("--from", "2026", "--to", "2026", "--dir", str(tmp_path), "--check")
    assert r.returncode == 1 and "differs" in r.stdout

    r = _seed("--from", "2026", "--to", "2026", "--dir", str(tmp_path), "--force")
    assert r.returncode == 0, r.stderr
    r = _seed("--from", "2025", "--to", "2026", "--dir", str(tmp_path), "--check")
    assert r.returncode == 0, r.stdout
    assert edited.read_text(encoding="utf-8") == (DEFAULT_CALENDAR_DIR / "2026.yaml").read_text(
        encoding="utf-8"
    )


def test_seed_script_refuses_years_the_library_lacks(tmp_path: Path) -> None:
    r = _seed("--from", "2026", "--to", "2027", "--dir", str(tmp_path))
    assert r.returncode == 2
    assert "2027" in r.stderr
    assert not list(tmp_path.iterdir())


def test_packaged_files_match_the_library(tmp_path: Path) -> None:
    # Every packaged file that still says it comes from the library is exactly what the script
    # generates. (A file the office corrected by hand carries another `source:` and is skipped.)
    r = _seed("--dir", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    default = default_calendar()
    checked = 0
    for y in LIBRARY_YEARS:
        schedule = default.schedule(y)
        assert schedule is not None
        if schedule.source.startswith("chinese-calendar"):
            generated = (tmp_path / f"{y}.yaml").read_text(encoding="utf-8")
            assert (DEFAULT_CALENDAR_DIR / f"{y}.yaml").read_text(encoding="utf-8") == generated, y
            checked += 1
    assert checked


def test_a_period_in_days_or_months_keeps_the_day_its_count_ended_on(cal: WorkCalendar) -> None:
    # A month from 1 September ends on Thu 1 October, 国庆: the period ends on Thu 8 October, but the day
    # its count ended on stays 1 October — time excluded later is added to that day, not to 8 October.
    due = cal.add(datetime(2026, 9, 1, 23, 59, tzinfo=SH), 1, "month")
    assert due.at == datetime(2026, 10, 8, 15, 59, 59, 999999, tzinfo=UTC)
    assert due.last_day == date(2026, 10, 1)
    due = cal.add(datetime(2026, 9, 28, 9, 0, tzinfo=SH), 3, "calendar_day")
    assert (due.at.date(), due.last_day) == (date(2026, 10, 8), date(2026, 10, 1))
    assert cal.add(datetime(2026, 9, 28, 9, 0, tzinfo=SH), 3, "working_day").last_day is None
