""""Open and past due, by unit" at 100k cases and 1M history rows, on SQLite and PostgreSQL.

Fills a fresh database straight through Core (the engine is not what is measured here), then
times the count behind the office's overdue page (`api/pages/views.overdue_by` calls
`open_past_due_by_unit`, then names the ≤100 units it returns). Prints the median and p95 of repeated runs.

    python bench/overdue_query.py [--cases 100000] [--history-per-case 10] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sqlalchemy import insert, select  # noqa: E402

from bench.backends import each_backend  # noqa: E402
from db.models import Case, CaseHistory, CaseParty, Definition, Unit  # noqa: E402
from db.repositories.time import open_past_due_by_unit  # noqa: E402
from db.session import Database  # noqa: E402
from engine.bootstrap import init_database  # noqa: E402
from workflows import ROOT  # noqa: E402


def fill(db: Database, n_cases: int, per_case: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with db.write() as conn:
        units = list(conn.execute(select(Unit.code)).scalars())
        definition_id = conn.execute(select(Definition.id).where(Definition.name == "referral")
                                     .order_by(Definition.version.desc()).limit(1)).scalar_one()
    batch = 5000
    for first in range(0, n_cases, batch):
        case_rows, party_rows, history_rows = [], [], []
        for i in range(first, min(first + batch, n_cases)):
            cid = i + 1
            created = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
            closed = rng.random() < 0.6
            due = created + timedelta(days=rng.randrange(3, 60))
            referrer, receiver = rng.sample(units, 2)
            case_rows.append({
                "id": cid, "number": f"B-{cid:07d}", "task_force_code": "two_lakes", "definition_id": definition_id,
                "state": "closed" if closed else "in_progress", "version": per_case, "closed": closed,
                "title": f"基准案件{cid}", "description": "", "data": {}, "parties": {"referrer": [referrer],
                                                                                   "receiver": [receiver]},
                "head_hash": "0" * 64, "created_at": created, "updated_at": created, "state_entered_at": created,
                "due_at": None if closed else due, "due_role": None if closed else "receiver",
                "due_unit": None if closed else receiver,
            })
            party_rows += [{"case_id": cid, "role": "referrer", "unit_code": referrer},
                           {"case_id": cid, "role": "receiver", "unit_code": receiver}]
            history_rows += [{"case_id": cid, "seq": s, "kind": "event", "event": "progress", "from_state": "in_progress",
                              "to_state": "in_progress", "actor_id": "bench", "actor_unit": receiver,
                              "actor_role": "receiver", "payload": {"note": "进展"}, "at": created,
                              "prev_hash": "0" * 64, "hash": "0" * 64} for s in range(1, per_case + 1)]
        with db.write() as conn:
            conn.execute(insert(Case.__table__), case_rows)
            conn.execute(insert(CaseParty.__table__), party_rows)
            conn.execute(insert(CaseHistory.__table__), history_rows)
    with db.write() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("ANALYZE")
    if not db.is_sqlite:
        # What autovacuum does on a live server: without the visibility map an index-only scan
        # still visits the heap.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE cases")
            conn.exec_driver_sql("VACUUM ANALYZE case_parties")


def measure(db: Database, repeats: int = 50) -> tuple[float, float, int]:
    as_of = datetime(2026, 9, 1, tzinfo=UTC)
    times = []
    rows = []
    with db.engine.connect() as conn:
        open_past_due_by_unit(conn, "two_lakes", as_of)  # warm the cache and the plan
        for _ in range(repeats):
            t = time.perf_counter()
            rows = open_past_due_by_unit(conn, "two_lakes", as_of)
            times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95) - 1] * 1000, sum(n for _, n in rows)


def run(name: str, url: str, args) -> tuple:
    db = Database(url)
    init_database(db, ROOT)
    t = time.perf_counter()
    fill(db, args.cases, args.history_per_case)
    filled = time.perf_counter() - t
    median, p95, overdue = measure(db)
    db.dispose()
    return name, args.cases, args.cases * args.history_per_case, filled, overdue, median, p95


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--history-per-case", type=int, default=10)
    ap.add_argument("--pg", default=os.environ.get("GONGZHI_TEST_PG_URL",
                                                  "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    rows = []
    for name, url in each_backend(args.pg, args.only):
        rows.append(run(name, url, args))
    print(f"{'database':<11} {'cases':>8} {'history':>9} {'fill s':>7} {'overdue':>8} {'median ms':>10} {'p95 ms':>7}")
    for name, n, h, filled, overdue, median, p95 in rows:
        print(f"{name:<11} {n:>8} {h:>9} {filled:>7.1f} {overdue:>8} {median:>10.2f} {p95:>7.2f}")


if __name__ == "__main__":
    main()
