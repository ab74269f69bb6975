"""Advance time: materialise recurring duties and fire due timers, day by day.

`gongzhi clock` runs this against the real clock; `gongzhi tick` against a simulated one whose
position is kept in the database, so successive ticks continue where the last one stopped.

A deployment runs on one kind of clock, recorded in the setting ``clock``: {"mode": "real" | "simulated",
"position": the simulated moment reached, "since", "by"}. Mixing them would date a case's history
backwards, so `claim_clock` refuses a simulated tick on a database a real-time server has written,
and a real-time server on a database simulated past today. A simulation that stopped in the past
(the demo: `gongzhi simulate --until <a past day>`, then `gongzhi serve`) hands over to real time.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from db.repositories import time as trepo
from db.session import Database
from engine.bootstrap import task_force_folders
from engine.cadences import Cadence, local_midnight, materialise, parse_cadences
from engine.calendar_sync import sync_calendar
from engine.cases import Cases
from engine.clock import FixedClock
from engine.errors import ClockConflict
from engine.localtime import end_of_local_day, local_date, start_of_local_day, to_local
from engine.timers import TickReport, run_due

SIM_KEY = "sim_clock"
CLOCK_KEY = "clock"
REAL, SIMULATED = "real", "simulated"


@dataclass
class ScheduleReport:
    created: int = 0
    timers: TickReport = field(default_factory=TickReport)


def all_cadences(root: Path, task_forces: Collection[str] | None = None) -> dict[str, list[Cadence]]:
    """Task force code → its cadences, for every task force folder with a cadences.yaml (only those
    named in `task_forces` when given; a name no folder has is an error)."""
    from engine.organisation import parse_organisation

    out, seen = {}, set()
    for folder in task_force_folders(root):
        code = parse_organisation(folder / "organisation.yaml").code
        seen.add(code)
        if task_forces is not None and code not in task_forces:
            continue
        found = parse_cadences(folder / "cadences.yaml")
        if found:
            out[code] = found
    unknown = sorted(set(task_forces or ()) - seen)
    if unknown:
        raise ValueError(f"no task force {', '.join(unknown)} under {root}; there are {', '.join(sorted(seen))}")
    return out


def schedule(cases: Cases, root: Path, first: date, last: date, task_forces: Collection[str] | None = None) -> int:
    return sum(materialise(cases, tf, cads, first, last) for tf, cads in all_cadences(root, task_forces).items())


def sim_position(cases: Cases) -> date | None:
    with cases.db.read() as conn:
        value = trepo.get_setting(conn, SIM_KEY)
    return date.fromisoformat(value["date"]) if value else None


def fire_through(cases: Cases, clock: FixedClock, start: datetime, end: datetime) -> TickReport:
    """Fire every timer due by `end`, each batch at its own due time (never before `start`): a warning
    at noon is dated noon, a deadline at the end of its day fires that day. The clock never goes back."""
    report = TickReport()
    moment, ran = start, False
    while True:
        with cases.db.read() as conn:
            nxt = trepo.next_timer_at(conn)
        if nxt is None or nxt > end or (ran and nxt <= moment):
            break  # nothing more is due today (what is still pending by `moment` could not be claimed)
        moment = max(nxt, moment, clock.now())
        clock.set(moment)
        report.add(run_due(cases))
        ran = True
    return report


def tick(cases: Cases, clock: FixedClock, root: Path, until: date, start: date | None = None,
         task_forces: Collection[str] | None = None) -> ScheduleReport:
    """Walk the simulated clock from the stored position (or `start`) to the end of `until`. Only the
    cadences of `task_forces` are materialised when given; due timers fire for every task force, since
    time is one for the whole deployment."""
    cadences = all_cadences(root, task_forces)
    day = sim_position(cases) or start or local_date(datetime.now(UTC))
    report = ScheduleReport()
    while day <= until:
        clock.set(local_midnight(day))
        # A holiday year published meanwhile is taken up first, its recomputations dated in simulated time.
        sync_calendar(cases)
        for tf, cads in cadences.items():
            report.created += materialise(cases, tf, cads, day, day)
        # Everything due by the end of the day fires on that day, at its own time of day.
        report.timers.add(fire_through(cases, clock, clock.now(), end_of_local_day(day)))
        day += timedelta(days=1)
        with cases.db.write() as conn:
            trepo.put_setting(conn, SIM_KEY, {"date": day.isoformat()})
            _record(conn, SIMULATED, "gongzhi tick", max(clock.now(), end_of_local_day(day - timedelta(days=1))))
    return report


# --- which clock the deployment runs on ----------------------------------------------------------

def _record(conn, mode: str, by: str, position: datetime | None, **extra) -> None:
    value = {"mode": mode, "by": by, "since": datetime.now(UTC).isoformat(), **extra}
    old = trepo.get_setting(conn, CLOCK_KEY) or {}
    if old.get("mode") == mode:
        value["since"] = old.get("since", value["since"])
    if position is not None:
        value["position"] = position.astimezone(UTC).isoformat()
    trepo.put_setting(conn, CLOCK_KEY, value)


def simulated_position(conn) -> datetime | None:
    """The latest simulated moment this database reached (a tick's next day counts from its start)."""
    found = []
    value = trepo.get_setting(conn, CLOCK_KEY) or {}
    if value.get("position"):
        found.append(datetime.fromisoformat(value["position"]))
    sim = trepo.get_setting(conn, SIM_KEY)
    if sim:
        # The stored date is the next day to simulate: everything before it has happened.
        found.append(start_of_local_day(date.fromisoformat(sim["date"])))
    return max(found) if found else None


def claim_clock(db: Database, mode: str, *, by: str = "", force: bool = False, now: datetime | None = None) -> None:
    """Record that `mode` ("real" | "simulated") drives this database, or raise ClockConflict saying why not.

    simulated: refused once a real-time server or clock has written (unless `force`).
    real: refused while the simulated position lies ahead of `now` (the real time): events dated now
    would land before the history already written. A simulation that stopped in the past hands over.
    """
    if mode not in (REAL, SIMULATED):
        raise ValueError(f"clock mode {mode!r}: expected {REAL!r} or {SIMULATED!r}")
    now = now or datetime.now(UTC)
    with db.write() as conn:
        current = trepo.get_setting(conn, CLOCK_KEY) or {}
        if mode == SIMULATED:
            if current.get("mode") == REAL and not force:
                raise ClockConflict(
                    f"this database runs on real time (since {current.get('since', '?')}, by "
                    f"{current.get('by') or 'a server'}); a simulated clock would date new history before what "
                    "is already written. Simulate on another database, or pass --force",
                    f"该数据库已按真实时间运行（自 {current.get('since', '?')} 起，{current.get('by') or '服务'}），"
                    "模拟时钟会使新记录早于已有记录。请在另一个数据库上模拟，或加 --force 强制执行",
                    mode=current.get("mode"), since=current.get("since"))
            _record(conn, SIMULATED, by, simulated_position(conn), **({"forced": True} if force else {}))
            return
        position = simulated_position(conn)
        if current.get("mode") != REAL and position is not None and position > now and not force:
            shown = to_local(position)
            raise ClockConflict(
                f"this database was simulated up to {shown:%Y-%m-%d %H:%M} (Asia/Shanghai), ahead of the real time "
                f"{to_local(now):%Y-%m-%d %H:%M}; on real time its cases' history would run backwards. "
                "Serve another database, or wait until real time passes the simulation",
                f"该数据库已模拟运行至 {shown.year}年{shown.month}月{shown.day}日 {shown:%H:%M}，晚于当前真实时间，"
                "按真实时间运行会使案件记录时间倒流。请改用其他数据库，或待真实时间超过模拟进度后再启动",
                position=position.isoformat(), now=now.isoformat())
        _record(conn, REAL, by, None)


def note_simulated_position(db: Database, at: datetime, by: str) -> None:
    """A simulation run outside `tick` (gongzhi simulate) records how far it went."""
    with db.write() as conn:
        position = simulated_position(conn)
        _record(conn, SIMULATED, by, max(at, position) if position else at)
