"""Bring a database to a working state: migrations at head, every task force folder loaded."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from db import migrate
from db.session import Database
from engine.check import check_root
from engine.clock import Clock, SystemClock
from engine.publishing import load_task_force


def task_force_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "organisation.yaml").is_file())


def init_database(db: Database, root: Path, clock: Clock | None = None,
                  calendar_dir: Path | None = None, document_kinds: Collection[str] | None = None
                  ) -> dict[str, dict[str, Any]]:
    """Migrate and load; safe to run again (a second run changes nothing). Every holiday schedule in
    `calendar_dir` (default workflows/calendar/) is stored, so running processes see new years.

    A task force folder with problems (`gongzhi check`) is refused — its report holds `problems` —
    and the others load all the same: one office's typo does not stop every mechanism."""
    migrate.upgrade(db.engine.url.render_as_string(hide_password=False))
    clock = clock or SystemClock()
    report: dict[str, dict[str, Any]] = {}
    found = check_root(root, document_kinds=document_kinds, keeps=lambda folder: _held(db, folder))
    for folder in task_force_folders(root):
        if found[folder]:
            report[folder.name] = {"problems": [str(p) for p in found[folder]]}
            continue
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


def _held(db: Database, folder: Path):
    """Which codes the folder's task force already holds in this database: a newcomer that reuses
    one is refused, the task force loaded first keeps loading."""
    from sqlalchemy import select

    from db.models import Jurisdiction, TaskForce, TaskForceUnit, Unit
    from engine.check import task_force_code

    code = task_force_code(folder)
    with db.read() as conn:
        if code is None or conn.execute(select(TaskForce.code).where(TaskForce.code == code)).first() is None:
            return None
        units = dict(conn.execute(select(Unit.code, Unit.jurisdiction_code).join(
            TaskForceUnit, TaskForceUnit.unit_code == Unit.code).where(TaskForceUnit.task_force_code == code)).all())
        parents = dict(conn.execute(select(Jurisdiction.code, Jurisdiction.parent_code)).all())
    places: set[str] = set()
    for j in units.values():
        while j is not None and j not in places:
            places.add(j)
            j = parents.get(j)
    held = {"task_force": {code}, "unit": set(units), "jurisdiction": places}
    return lambda kind, value: value in held[kind]
