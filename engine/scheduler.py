"""Advance time: materialise recurring duties and fire due timers, day by day.

`gongzhi clock` runs this against the real clock; `gongzhi tick` against a simulated one whose
position is kept in the database, so successive ticks continue where the last one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from db.repositories import time as trepo
from engine.bootstrap import task_force_folders
from engine.cadences import Cadence, local_midnight, materialise, parse_cadences
from engine.calendar import LOCAL_TZ
from engine.cases import Cases
from engine.clock import FixedClock
from engine.timers import TickReport, run_due

SIM_KEY = "sim_clock"


@dataclass
class ScheduleReport:
    created: int = 0
    timers: TickReport = field(default_factory=TickReport)


def all_cadences(root: Path) -> dict[str, list[Cadence]]:
    """Task force code → its cadences, for every task force folder with a cadences.yaml."""
    from engine.organisation import parse_organisation

    out = {}
    for folder in task_force_folders(root):
        found = parse_cadences(folder / "cadences.yaml")
        if found:
            out[parse_organisation(folder / "organisation.yaml").code] = found
    return out


def schedule(cases: Cases, root: Path, first: date, last: date) -> int:
    return sum(materialise(cases, tf, cads, first, last) for tf, cads in all_cadences(root).items())


def sim_position(cases: Cases) -> date | None:
    with cases.db.read() as conn:
        value = trepo.get_setting(conn, SIM_KEY)
    return date.fromisoformat(value["date"]) if value else None


def tick(cases: Cases, clock: FixedClock, root: Path, until: date, start: date | None = None) -> ScheduleReport:
    """Walk the simulated clock from the stored position (or `start`) to the end of `until`."""
    cadences = all_cadences(root)
    day = sim_position(cases) or start or datetime.now(LOCAL_TZ).date()
    report = ScheduleReport()
    while day <= until:
        clock.set(local_midnight(day))
        for tf, cads in cadences.items():
            report.created += materialise(cases, tf, cads, day, day)
        # Everything due by the end of the day fires at its own time of day.
        clock.set(local_midnight(day + timedelta(days=1)) - timedelta(minutes=6))
        report.timers.add(run_due(cases))
        day += timedelta(days=1)
        with cases.db.write() as conn:
            trepo.put_setting(conn, SIM_KEY, {"date": day.isoformat()})
    return report
