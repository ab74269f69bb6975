"""Bring a database to a working state: migrations at head, every task force folder loaded."""

from __future__ import annotations

from pathlib import Path

from db import migrate
from db.session import Database
from engine.clock import Clock, SystemClock
from engine.publishing import load_task_force


def task_force_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "organisation.yaml").is_file())


def init_database(db: Database, root: Path, clock: Clock | None = None,
                  calendar_dir: Path | None = None) -> dict[str, dict[str, int]]:
    """Migrate and load; safe to run again (a second run changes nothing). Every holiday schedule in
    `calendar_dir` (default workflows/calendar/) is stored, so running processes see new years."""
    migrate.upgrade(db.engine.url.render_as_string(hide_password=False))
    clock = clock or SystemClock()
    report = {}
    for folder in task_force_folders(root):
        with db.write() as conn:
            report[folder.name] = load_task_force(conn, folder, clock)
    from engine.calendar import DEFAULT_CALENDAR_DIR, WorkCalendar
    from engine.calendar_sync import store_calendar, sync_calendar
    from engine.cases import Cases

    with db.write() as conn:
        store_calendar(conn, WorkCalendar.from_dir(calendar_dir or DEFAULT_CALENDAR_DIR))
    # A newly stored holiday schedule settles deadlines that were computed without one.
    cases = Cases(db, clock)
    sync_calendar(cases)
    return report
