"""Deadline calendar: PRC working days, statutory holidays and make-up working days (调休).

The holiday schedule is *data*: one YAML file per year in ``workflows/calendar/<year>.yaml``::

    year: 2026
    source: chinese-calendar 1.11.0
    holidays:                       # statutory days off, including weekdays shifted off (调休)
      - {date: 2026-02-15, name: 春节}
      - {date: 2026-02-20, name: 春节, in_lieu: true}   # in_lieu is optional, informative only
    workdays:                       # make-up working days; they fall on Saturdays/Sundays
      - {date: 2026-02-14, name: 春节}

A day is a *working day* when it is a Monday–Friday not listed under ``holidays``, or a
Saturday/Sunday listed under ``workdays``. For a year without a file the calendar falls back to
weekends alone and every deadline that depends on such a day is marked ``provisional``: the
caller flags it and recomputes once the office loads the schedule. Nothing is ever guessed.
``gongzhi init`` stores every year in the database, and running processes take new years up without
a restart (``engine.calendar_sync``).

Counting rules (DOMAIN.md §2.3, §9.1)
-------------------------------------
All inputs are timezone-aware datetimes. Day arithmetic happens in local time, Asia/Shanghai
(``engine.localtime``, which owns the zone and the end-of-day rule). All outputs are aware datetimes in UTC.

* ``hour``: ``start + timedelta(hours=n)``, absolute elapsed time; the calendar is not consulted.
* ``working_day``: the start day never counts; counting starts on the next local day and counts
  only working days. The deadline is the end of the n-th working day.
* ``calendar_day``: the start day is not counted (民法典 Art. 201; 民事诉讼法 Art. 85: "期间开始的时和
  日，不计算在期间内"). The last day is ``start_date + n``. If that day is a 法定休假日 (a statutory
  holiday or an ordinary rest day) the period ends on the next working day (民事诉讼法 Art. 85:
  "期间届满的最后一日是法定休假日的，以法定休假日后的第一日为期间届满的日期"; 民法典 Art. 203).
  A make-up working Saturday/Sunday is a working day, not a 法定休假日, so a period may end on it.
* ``month``: calendar months on the local start date (``dateutil.relativedelta``): the last day is
  the corresponding day of the target month, or that month's last day when it has no such day
  (民法典 Art. 202: "按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，月末日为期间
  的最后一日"). The same holiday extension as ``calendar_day`` then applies.

A deadline expressed in days or months is **the end of its local due day**: 23:59:59.999999
Asia/Shanghai (民法典 Art. 203: "期间的最后一日的截止时间为二十四时"; ``engine.localtime.end_of_local_day``),
returned in UTC. An act is on
time when its timestamp is ``<= due.at``.

``Due.provisional`` is True when the result depends on whether some day is a working day and that
day lies in a year without a schedule file (for ``working_day``: any day counted over; for
``calendar_day``/``month``: the last day and any extension days).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from dateutil.relativedelta import relativedelta

from engine.localtime import LOCAL_TZ, end_of_local_day, local_date, to_local

__all__ = [
    "DEFAULT_CALENDAR_DIR",
    "UNITS",
    "CalendarDataError",
    "Due",
    "WorkCalendar",
    "YearSchedule",
    "default_calendar",
]

UNITS: tuple[str, ...] = ("hour", "calendar_day", "working_day", "month")
DEFAULT_CALENDAR_DIR = Path(__file__).resolve().parent.parent / "workflows" / "calendar"

_ONE_DAY = timedelta(days=1)
_FILE_RE = re.compile(r"^(\d{4})\.yaml$")
_HOLIDAY_KEYS = frozenset({"date", "name", "in_lieu"})
_WORKDAY_KEYS = frozenset({"date", "name"})
_TOP_KEYS = frozenset({"year", "source", "holidays", "workdays"})


class CalendarDataError(ValueError):
    """A calendar YAML file (or mapping) is malformed or inconsistent."""


# --------------------------------------------------------------------------- helpers


def _require_aware(dt: datetime, what: str) -> None:
    if not isinstance(dt, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {dt!r}")


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


def _weekdays_in(first: date, last: date) -> int:
    """Number of Monday–Friday dates in [first, last] (0 if last < first)."""
    days = (last - first).days + 1
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    wd = first.weekday()
    return weeks * 5 + sum(1 for i in range(rest) if (wd + i) % 7 < 5)


def _count_in(sorted_dates: tuple[date, ...], first: date, last: date) -> int:
    """Number of dates of a sorted tuple in [first, last]."""
    return bisect.bisect_right(sorted_dates, last) - bisect.bisect_left(sorted_dates, first)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Due:
    """A computed deadline. ``at`` is an aware UTC datetime; see the module doc for ``provisional``."""

    at: datetime
    provisional: bool = False
    # The years without a schedule that the result depends on (what a provisional deadline waits for).
    missing_years: frozenset[int] = field(default=frozenset(), compare=False)
    # A period in days or months: the day its count ends, before a rest day or holiday there moves the
    # end to the next working day. Time excluded later is added to this day, not to the moved one.
    last_day: date | None = field(default=None, compare=False)

    @property
    def local_date(self) -> date:
        """The due day in Asia/Shanghai."""
        return local_date(self.at)


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        raise CalendarDataError(f"{where}: expected a date, got a datetime {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise CalendarDataError(f"{where}: invalid date {value!r}") from exc
    raise CalendarDataError(f"{where}: expected a date, got {value!r}")


def _parse_entries(
    raw: Any, year: int, kind: str, allowed: frozenset[str], origin: str
) -> tuple[dict[date, str], set[date]]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise CalendarDataError(f"{origin}: {kind} must be a list")
    names: dict[date, str] = {}
    in_lieu: set[date] = set()
    for i, entry in enumerate(raw):
        where = f"{origin}: {kind}[{i}]"
        if not isinstance(entry, Mapping):
            raise CalendarDataError(f"{where}: expected a mapping {{date, name}}")
        unknown = set(entry) - allowed
        if unknown:
            raise CalendarDataError(f"{where}: unknown keys {sorted(unknown)}")
        if "date" not in entry or "name" not in entry:
            raise CalendarDataError(f"{where}: 'date' and 'name' are required")
        d = _parse_date(entry["date"], where)
        if d.year != year:
            raise CalendarDataError(f"{where}: {d} is not in year {year}")
        name = entry["name"]
        if not isinstance(name, str) or not name.strip():
            raise CalendarDataError(f"{where}: name must be a non-empty string")
        if d in names:
            raise CalendarDataError(f"{where}: {d} listed twice")
        flag = entry.get("in_lieu", False)
        if not isinstance(flag, bool):
            raise CalendarDataError(f"{where}: in_lieu must be true or false")
        names[d] = name.strip()
        if flag:
            in_lieu.add(d)
    return names, in_lieu


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule, as loaded from ``<year>.yaml``."""

    year: int
    source: str
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    in_lieu: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # Freeze whatever mappings we were given.
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))
        object.__setattr__(self, "workdays", MappingProxyType(dict(self.workdays)))
        object.__setattr__(self, "in_lieu", frozenset(self.in_lieu))
        where = f"calendar {self.year}"
        for d in (*self.holidays, *self.workdays):
            if d.year != self.year:
                raise CalendarDataError(f"{where}: {d} is not in year {self.year}")
        both = set(self.holidays) & set(self.workdays)
        if both:
            raise CalendarDataError(f"{where}: both holiday and workday: {sorted(both)}")
        weekday_workdays = sorted(d for d in self.workdays if not _is_weekend(d))
        if weekday_workdays:
            raise CalendarDataError(
                f"{where}: make-up workdays must fall on a Saturday or Sunday: {weekday_workdays}"
            )
        if not self.in_lieu <= set(self.holidays):
            raise CalendarDataError(f"{where}: in_lieu days must be holidays")

    @classmethod
    def from_mapping(cls, data: Any, *, origin: str = "<mapping>") -> YearSchedule:
        if not isinstance(data, Mapping):
            raise CalendarDataError(f"{origin}: expected a mapping at the top level")
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise CalendarDataError(f"{origin}: unknown keys {sorted(unknown)}")
        year = data.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2999:
            raise CalendarDataError(f"{origin}: 'year' must be a four-digit integer")
        source = data.get("source")
        if not isinstance(source, str) or not source.strip():
            raise CalendarDataError(f"{origin}: 'source' is required (e.g. 国务院办公厅通知)")
        holidays, in_lieu = _parse_entries(data.get("holidays"), year, "holidays", _HOLIDAY_KEYS, origin)
        workdays, _ = _parse_entries(data.get("workdays"), year, "workdays", _WORKDAY_KEYS, origin)
        try:
            return cls(year, source.strip(), holidays, workdays, frozenset(in_lieu))
        except CalendarDataError as exc:
            raise CalendarDataError(f"{origin}: {exc}") from exc

    def to_mapping(self) -> dict[str, Any]:
        """The schedule as its file reads (dates as ISO strings): ``from_mapping`` gives it back."""
        def entries(days: Mapping[date, str], flagged: frozenset[date]) -> list[dict[str, Any]]:
            return [{"date": d.isoformat(), "name": n, **({"in_lieu": True} if d in flagged else {})}
                    for d, n in sorted(days.items())]

        return {"year": self.year, "source": self.source, "holidays": entries(self.holidays, self.in_lieu),
                "workdays": entries(self.workdays, frozenset())}

    @classmethod
    def from_file(cls, path: str | Path) -> YearSchedule:
        path = Path(path)
        m = _FILE_RE.match(path.name)
        if not m:
            raise CalendarDataError(f"{path}: calendar files must be named <year>.yaml")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise CalendarDataError(f"{path}: invalid YAML: {exc}") from exc
        schedule = cls.from_mapping(data, origin=str(path))
        if schedule.year != int(m.group(1)):
            raise CalendarDataError(f"{path}: file name says {m.group(1)} but year: is {schedule.year}")
        return schedule


# --------------------------------------------------------------------------- calendar


class WorkCalendar:
    """An immutable working-day calendar built from per-year schedules.

    Years without a schedule count Saturdays and Sundays as the only rest days, and every
    deadline that depends on them is ``provisional``.
    """

    __slots__ = ("_schedules", "_years", "_holidays", "_workdays", "_off_weekdays", "_extra_workdays")

    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        by_year: dict[int, YearSchedule] = {}
        for s in schedules:
            if s.year in by_year:
                raise CalendarDataError(f"two schedules for year {s.year}")
            by_year[s.year] = s
        holidays = frozenset(d for s in by_year.values() for d in s.holidays)
        workdays = frozenset(d for s in by_year.values() for d in s.workdays)
        setattr_ = object.__setattr__
        setattr_(self, "_schedules", MappingProxyType(dict(sorted(by_year.items()))))
        setattr_(self, "_years", frozenset(by_year))
        setattr_(self, "_holidays", holidays)
        setattr_(self, "_workdays", workdays)
        # For O(log n) range counting: holidays on Mon–Fri, and make-up days on Sat/Sun.
        setattr_(self, "_off_weekdays", tuple(sorted(d for d in holidays if not _is_weekend(d))))
        setattr_(self, "_extra_workdays", tuple(sorted(workdays)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("WorkCalendar is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("WorkCalendar is immutable")

    def __repr__(self) -> str:
        years = sorted(self._years)
        span = f"{years[0]}–{years[-1]}, {len(years)} years" if years else "no schedules"
        return f"<WorkCalendar {span}>"

    # ---- construction

    @classmethod
    def from_dir(cls, path: str | Path) -> WorkCalendar:
        """Load every ``<year>.yaml`` in a directory. Other ``*.yaml`` names are an error."""
        path = Path(path)
        if not path.is_dir():
            raise CalendarDataError(f"{path}: not a directory")
        stray = sorted(path.glob("*.yml"))
        if stray:
            raise CalendarDataError(f"{stray[0]}: calendar files must be named <year>.yaml")
        return cls(YearSchedule.from_file(p) for p in sorted(path.glob("*.yaml")))

    @classmethod
    def default(cls) -> WorkCalendar:
        """The packaged calendar in ``workflows/calendar/`` (loaded once, cached)."""
        return default_calendar()

    def with_schedule(self, schedule: YearSchedule) -> WorkCalendar:
        """A new calendar with ``schedule`` added, replacing any schedule for the same year."""
        others = [s for y, s in self._schedules.items() if y != schedule.year]
        return WorkCalendar([*others, schedule])

    # ---- inspection

    @property
    def years(self) -> frozenset[int]:
        return self._years

    def has_schedule(self, year: int) -> bool:
        return year in self._years

    def schedule(self, year: int) -> YearSchedule | None:
        return self._schedules.get(year)

    def schedules(self) -> tuple[YearSchedule, ...]:
        """Every year's schedule, by year."""
        return tuple(self._schedules.values())

    def missing_years(self, a: date | datetime, b: date | datetime) -> frozenset[int]:
        """Years in the closed range spanned by ``a`` and ``b`` that have no schedule."""
        ya, yb = sorted((local_date(a).year, local_date(b).year))
        return frozenset(y for y in range(ya, yb + 1) if y not in self._years)

    def is_working_day(self, d: date | datetime) -> bool:
        """Mon–Fri and not a holiday, or a listed make-up Saturday/Sunday.

        An aware datetime is first converted to its Asia/Shanghai date.
        """
        d = local_date(d)
        if d in self._workdays:
            return True
        return not _is_weekend(d) and d not in self._holidays

    def holiday_name(self, d: date | datetime) -> str | None:
        """The name of the statutory holiday on local day ``d``, if any."""
        d = local_date(d)
        s = self._schedules.get(d.year)
        return s.holidays.get(d) if s else None

    def next_working_day(self, d: date | datetime) -> date:
        """The first working day strictly after local day ``d``."""
        d = local_date(d) + _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    # ---- arithmetic

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days in (a, b]: ``a`` excluded, ``b`` included.

        Negative when ``b < a`` (then ``-working_days_between(b, a)``), so
        ``working_days_between(due_date, today)`` is "working days overdue" when positive and
        "working days left" when negative. Aware datetimes are converted to local dates.
        """
        a, b = local_date(a), local_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        first = a + _ONE_DAY
        return (
            _weekdays_in(first, b)
            - _count_in(self._off_weekdays, first, b)
            + _count_in(self._extra_workdays, first, b)
        )

    def add(self, start: datetime, amount: int, unit: str) -> Due:
        """The deadline ``amount`` ``unit``s after ``start``. See the module doc for the rules."""
        _require_aware(start, "start")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError(f"amount must be an int, got {amount!r}")
        if amount < 1:
            raise ValueError(f"amount must be a positive integer, got {amount}")
        if unit == "hour":
            return Due(at=(start + timedelta(hours=amount)).astimezone(UTC), provisional=False)

        start_day = local_date(start)
        consulted: set[int] = set()  # years of every day whose working-day status we relied on

        if unit == "working_day":
            d = start_day
            left = amount
            while left:
                d += _ONE_DAY
                consulted.add(d.year)
                if self.is_working_day(d):
                    left -= 1
        elif unit in ("calendar_day", "month"):
            if unit == "calendar_day":
                d = start_day + timedelta(days=amount)
            else:
                d = start_day + relativedelta(months=amount)
            consulted.add(d.year)
            last_day = d
            while not self.is_working_day(d):  # 法定休假日 at the end: next working day
                d += _ONE_DAY
                consulted.add(d.year)
            missing = frozenset(consulted - self._years)
            return Due(at=end_of_local_day(d), provisional=bool(missing), missing_years=missing, last_day=last_day)
        else:
            raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")

        missing = frozenset(consulted - self._years)
        return Due(at=end_of_local_day(d), provisional=bool(missing), missing_years=missing)

    def subtract_working_days(self, due: datetime, n: int) -> datetime:
        """The same local time of day on the working day that lies ``n`` working days before ``due``.

        The result day W is a working day with exactly ``n`` working days in (W, due's local day],
        i.e. the inverse of ``add``: for a due at the end of a working day,
        ``add(subtract_working_days(due, n), n, "working_day").at == due``. ``n == 0`` returns
        ``due`` (in UTC). Returned as an aware UTC datetime. Days in years without a schedule are
        counted on weekends alone; check ``missing_years`` if that matters.
        """
        _require_aware(due, "due")
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"n must be an int, got {n!r}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        local = to_local(due)
        if n == 0:
            return local.astimezone(UTC)
        d = local.date()
        left = n
        while left:
            if self.is_working_day(d):
                left -= 1
            d -= _ONE_DAY
        while not self.is_working_day(d):
            d -= _ONE_DAY
        # Combine the wall-clock time with the new date, then resolve in Asia/Shanghai.
        shifted = datetime.combine(d, local.timetz().replace(tzinfo=None), tzinfo=LOCAL_TZ)
        return shifted.astimezone(UTC)


@functools.cache
def default_calendar() -> WorkCalendar:
    """The packaged ``workflows/calendar/`` schedules (loaded once per process)."""
    return WorkCalendar.from_dir(DEFAULT_CALENDAR_DIR)
