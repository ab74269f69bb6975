"""Beijing time, the product's one local zone: which local day a moment falls on, how it reads, when a day ends.

Moments are stored in UTC and shown in Asia/Shanghai, whatever zone the server's own clock is set to
(``TZ``): nothing here, nor anywhere else, calls ``astimezone()`` without a zone, which would read the
server's. Every shown time and every local date goes through ``to_local`` or ``local_date``.

**A wall-clock time without a zone is Beijing time.** People type local times (a meeting at 09:30), and
so do the systems that feed us; such a time — in the JSON API, a page form, an items file for
``gongzhi load-items``, or a value recorded before this rule — is read by ``aware`` as Asia/Shanghai,
never as the server's zone. A time that carries its own offset (``+08:00``, ``Z``) keeps it. ``aware`` is
that rule's only home: the payload models of every event call it, so case data holds aware times.

Inside the code every ``datetime`` is aware; ``to_local`` and ``local_date`` refuse a naive one rather
than guess, since by then it can only be a bug.

**A day ends at 24:00 local time** (民法典 Art. 203: "期间的最后一日的截止时间为二十四时"): the last instant
of a local day is 23:59:59.999999 Asia/Shanghai, and an act is on time when its timestamp is ``<=`` it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

__all__ = [
    "LOCAL_TZ",
    "at_local",
    "aware",
    "end_of_local_day",
    "local_date",
    "moment_of",
    "start_of_local_day",
    "to_local",
]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def aware(moment: datetime) -> datetime:
    """The moment a date-time names: one without a zone is Beijing time; one with a zone keeps it."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=LOCAL_TZ)
    return moment


def moment_of(value: datetime | str) -> datetime:
    """A recorded or typed date-time (ISO 8601 text or a datetime) as an aware moment, by ``aware``'s rule.
    Raises ValueError for text that is no date-time."""
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, str):
        return aware(datetime.fromisoformat(value))
    raise TypeError(f"expected a date-time, got {type(value).__name__}")


def _require_aware(moment: datetime) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {moment!r}")


def to_local(moment: datetime) -> datetime:
    """An aware moment in Beijing time, as it is shown."""
    _require_aware(moment)
    return moment.astimezone(LOCAL_TZ)


def local_date(value: date | datetime) -> date:
    """The Beijing calendar date of an aware moment; a plain date is returned unchanged."""
    if isinstance(value, datetime):
        return to_local(value).date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date or an aware datetime, got {type(value).__name__}")


def at_local(day: date, clock_time: time = time(0)) -> datetime:
    """A wall-clock time on a Beijing day, as an aware UTC moment."""
    return datetime.combine(day, clock_time, tzinfo=LOCAL_TZ).astimezone(UTC)


def start_of_local_day(day: date) -> datetime:
    """00:00 Beijing time on ``day``, in UTC."""
    return at_local(day, time(0))


def end_of_local_day(day: date) -> datetime:
    """23:59:59.999999 Beijing time on ``day``, in UTC: a deadline in days ends at that day's 24:00."""
    return at_local(day, time.max)


def zh_date(value: datetime | date | str | None) -> str:
    """2026年3月1日 (in Asia/Shanghai for moments)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = moment_of(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = local_date(moment_of(value))
    return f"{value.year}年{value.month}月{value.day}日"


def zh_datetime(value: datetime | str | None) -> str:
    """2026年3月1日 09:30 (Asia/Shanghai)."""
    if value is None or value == "":
        return ""
    try:
        local = to_local(moment_of(value))
    except ValueError:
        return str(value)
    return f"{zh_date(local)} {local:%H:%M}"
