"""Bring a database to a working state: migrations at head, every task force folder loaded."""

from __future__ import annotations

from pathlib import Path

from db import migrate
from db.session import Database
from engine.clock import Clock, SystemClock
from engine.publishing import load_task_force


def task_force_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "organisation.yaml").is_file())


def init_database(db: Database, root: Path, clock: Clock | None = None) -> dict[str, dict[str, int]]:
    """Migrate and load; safe to run again (a second run changes nothing)."""
    migrate.upgrade(db.engine.url.render_as_string(hide_password=False))
    clock = clock or SystemClock()
    report = {}
    for folder in task_force_folders(root):
        with db.write() as conn:
            report[folder.name] = load_task_force(conn, folder, clock)
    from engine.cases import Cases
    from engine.deadlines import recompute_provisional

    # A newly loaded holiday schedule settles deadlines that were computed without one.
    cases = Cases(db, clock)
    with db.write() as conn:
        recompute_provisional(cases, conn)
    return report
