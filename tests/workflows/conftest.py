"""Scenario tests of the two-lakes workflows: each test drives cases step by step, reloading them
from the database before every step; every event that fires is noted, so that the last test of the
folder can check that together they fire every event of every workflow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Case, CaseHistory, Definition

FIRED: set[tuple[str, str]] = set()
MODULES: set[str] = set()


@pytest.fixture(autouse=True)
def _note_fired_events(request):
    # Taken before the test so that it is torn down after this fixture has read the history.
    db = request.getfixturevalue("db") if "db" in request.fixturenames else None
    yield
    if db is None:
        return
    MODULES.add(request.module.__name__.rsplit(".", 1)[-1])
    with db.read() as conn:
        rows = conn.execute(select(Definition.name, CaseHistory.event).distinct()
                            .join(Case, Case.id == CaseHistory.case_id)
                            .join(Definition, Definition.id == Case.definition_id)
                            .where(Case.task_force_code == "two_lakes", CaseHistory.kind.in_(("create", "event"))))
        FIRED.update((name, event) for name, event in rows)
