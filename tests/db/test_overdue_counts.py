""""Open and past due, by unit" counted in the database equals counting the cases one by one."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from db.models import Case, Definition, Unit
from db.repositories.time import open_past_due_by_unit


def test_counts_by_lead_unit_match_a_case_by_case_count(db):
    rng = random.Random(5)
    as_of = datetime(2026, 6, 1, tzinfo=UTC)
    with db.write() as conn:
        units = list(conn.execute(select(Unit.code).order_by(Unit.code)).scalars())[:6]
        definition_id = conn.execute(select(Definition.id).where(Definition.task_force_code == "two_lakes")
                                     .limit(1)).scalar_one()
        first = 1  # the db fixture starts every test with no cases
        rows = []
        for i in range(300):
            closed = rng.random() < 0.3
            due = None if rng.random() < 0.1 else as_of + timedelta(days=rng.randrange(-40, 40))
            rows.append({
                "id": first + i, "number": f"计数-{first + i}", "task_force_code": rng.choice(["two_lakes", "toy"]),
                "definition_id": definition_id, "state": "x", "version": 1, "closed": closed, "title": "计数",
                "description": "", "data": {}, "parties": {}, "head_hash": "0" * 64, "created_at": as_of,
                "updated_at": as_of, "state_entered_at": as_of, "due_at": due,
                # Some overdue cases have no lead unit (a due role nobody holds yet).
                "due_role": "receiver", "due_unit": None if rng.random() < 0.05 else rng.choice(units),
            })
        conn.execute(insert(Case.__table__), rows)
        got = open_past_due_by_unit(conn, "two_lakes", as_of)
    expected = Counter(r["due_unit"] for r in rows if r["task_force_code"] == "two_lakes" and not r["closed"]
                       and r["due_at"] is not None and r["due_at"] < as_of)
    assert None in expected and len(expected) == 7  # every unit and the unled cases are represented
    assert sorted(got, key=str) == sorted(expected.items(), key=str)
