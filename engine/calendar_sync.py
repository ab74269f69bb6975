"""The holiday schedule as the deployment knows it: stored in the database, seen by running processes.

The yearly files in ``workflows/calendar/`` are read once per process (``default_calendar``). When the
State Council publishes next year's schedule, the office adds ``<year>.yaml`` and runs ``gongzhi init``,
which stores every year it finds in ``settings`` (key ``calendar:<year>``: the year's mapping, as its
file reads) and a ``calendar_version`` that changes whenever a year is added or changed (a digest of
every stored year). A running server or worker calls ``sync_calendar`` each clock round: one small
read when nothing changed; otherwise it rebuilds its WorkCalendar from the files plus the stored years
and recomputes the deadlines that were provisional, with their timers. So no process needs a restart,
and a worker on another machine whose files are older still counts with the published year.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from sqlalchemy import Connection

from db.repositories import time as trepo
from engine.calendar import DEFAULT_CALENDAR_DIR, WorkCalendar, YearSchedule
from engine.deadlines import recompute_provisional

YEAR_PREFIX = "calendar:"
VERSION_KEY = "calendar_version"

# One sync at a time per process: two threads of one server must not rebuild and recompute together.
_SYNC_LOCK = threading.Lock()


def _digest(years: dict[str, dict[str, Any]]) -> str:
    canonical = json.dumps(years, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def stored_version(conn: Connection) -> str | None:
    value = trepo.get_setting(conn, VERSION_KEY)
    return value["version"] if value else None


def stored_years(conn: Connection) -> dict[int, YearSchedule]:
    """Every year stored in the database, parsed (a malformed one is an error, as a malformed file is)."""
    out = {}
    for key, mapping in trepo.settings_like(conn, YEAR_PREFIX).items():
        out[int(key.removeprefix(YEAR_PREFIX))] = YearSchedule.from_mapping(mapping, origin=f"settings {key}")
    return out


def store_calendar(conn: Connection, calendar: WorkCalendar) -> list[int]:
    """Store each year of `calendar` that is new or changed; the years written (the version moves iff any)."""
    known = trepo.settings_like(conn, YEAR_PREFIX)
    written = []
    for schedule in calendar.schedules():
        key, mapping = f"{YEAR_PREFIX}{schedule.year}", schedule.to_mapping()
        if known.get(key) != mapping:
            trepo.put_setting(conn, key, mapping)
            known[key] = mapping
            written.append(schedule.year)
    if written or trepo.get_setting(conn, VERSION_KEY) is None:
        trepo.put_setting(conn, VERSION_KEY, {"version": _digest(known), "years": sorted(
            int(k.removeprefix(YEAR_PREFIX)) for k in known)})
    return written


def build_calendar(conn: Connection, files: WorkCalendar | None = None) -> WorkCalendar:
    """The files' years with the stored ones laid over them (the database is what was published)."""
    files = files if files is not None else WorkCalendar.from_dir(DEFAULT_CALENDAR_DIR)
    stored = stored_years(conn)
    return WorkCalendar([*(s for s in files.schedules() if s.year not in stored), *stored.values()])


def sync_calendar(cases) -> int:
    """Bring `cases`' working-day calendar up to the stored one; the number of deadlines recomputed.

    Cheap when nothing changed: one read of one setting. A database with no stored calendar leaves the
    process's calendar as it is."""
    with cases.db.read() as conn:
        version = stored_version(conn)
    keeper = cases.deadlines
    if version is None or version == keeper.calendar_version:
        return 0
    with _SYNC_LOCK:
        if version == keeper.calendar_version:
            return 0
        with cases.db.read() as conn:
            version = stored_version(conn)
            calendar = build_calendar(conn)
        keeper.calendar = calendar
        with cases.db.write() as conn:
            done = recompute_provisional(cases, conn)
        # Only once the recomputation committed: a failed round is tried again next time.
        keeper.calendar_version = version
        return done
