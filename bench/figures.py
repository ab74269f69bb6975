"""Figures across cases (figures.yaml) at scale, on SQLite and PostgreSQL.

Loads the test mechanism tests/fixtures/eco_fund, fills a fresh database straight through Core with
N monthly results of three counties spread over ten years (the engine is not what is measured here)
and H history rows per case, opens one settlement for 2026, then times:

    settlement   every figure of the settlement case (counts, sums by county, mean, shares of the fund)
    task force   every figure of the task force (the scorecards page's figures table)

Prints the median and p95 of repeated runs (ms). The target of issue 17: p95 < 200 ms at 100k cases.

    python bench/figures.py [--cases 100000] [--history-per-case 10] [--repeats 30] [--only sqlite|postgresql]
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
from db import migrate  # noqa: E402
from db.models import Case, CaseHistory, CaseParty, Definition  # noqa: E402
from db.session import Database  # noqa: E402
from engine.actors import Actor  # noqa: E402
from engine.cases import Cases  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.figures import InContext  # noqa: E402
from engine.publishing import load_task_force  # noqa: E402

ECO = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "eco_fund"
COUNTIES = ("e_a_gov", "e_b_gov", "e_c_gov")
OFFICE = Actor.of("bench-office", "e_office", "office")
YEARS = range(2017, 2027)


def fill(db: Database, n_cases: int, per_case: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with db.write() as conn:
        definition_id = conn.execute(select(Definition.id).where(Definition.task_force_code == "eco",
                                                                 Definition.name == "monitoring")).scalar_one()
        first_id = (conn.execute(select(Case.id).order_by(Case.id.desc()).limit(1)).scalar() or 0) + 1
    batch = 5000
    for first in range(0, n_cases, batch):
        case_rows, party_rows, history_rows = [], [], []
        for i in range(first, min(first + batch, n_cases)):
            cid = first_id + i
            year, month = rng.choice(YEARS), rng.randrange(1, 13)
            county = rng.choice(COUNTIES)
            created = datetime(year, month, 28, tzinfo=UTC)
            confirmed = rng.random() < 0.9
            score = round(rng.uniform(50, 100), 1)
            case_rows.append({
                "id": cid, "number": f"B-{cid:07d}", "task_force_code": "eco", "definition_id": definition_id,
                "state": "confirmed" if confirmed else "reported", "version": max(per_case, 1),
                "closed": confirmed, "title": f"基准月评{cid}", "description": "",
                "data": {"month": f"{year}-{month:02d}", "score": score, "met": score >= 60},
                "parties": {"county": [county]}, "head_hash": "0" * 64, "created_at": created,
                "updated_at": created, "state_entered_at": created, "due_at": None, "due_role": None,
                "due_unit": None,
            })
            party_rows.append({"case_id": cid, "role": "county", "unit_code": county})
            history_rows += [{"case_id": cid, "seq": s, "kind": "event", "event": "confirm", "from_state": "reported",
                              "to_state": "confirmed", "actor_id": "bench", "actor_unit": "e_office",
                              "actor_role": "office", "payload": {}, "at": created + timedelta(seconds=s),
                              "prev_hash": "0" * 64, "hash": "0" * 64} for s in range(1, per_case + 1)]
        with db.write() as conn:
            conn.execute(insert(Case.__table__), case_rows)
            conn.execute(insert(CaseParty.__table__), party_rows)
            if history_rows:
                conn.execute(insert(CaseHistory.__table__), history_rows)
    if db.is_sqlite:
        with db.write() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE cases")
            conn.exec_driver_sql("VACUUM ANALYZE case_parties")


def timed(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm caches and plans
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1000, times[max(int(len(times) * 0.95) - 1, 0)] * 1000


def run(name: str, url: str, args) -> list[tuple]:
    db = Database(url)
    migrate.upgrade(url)
    clock = FixedClock(datetime(2027, 1, 5, tzinfo=UTC), step=timedelta(seconds=1))
    with db.write() as conn:
        load_task_force(conn, ECO, clock)
    cases = Cases(db, clock)
    with db.write() as conn:
        settlement = cases.start(conn, task_force="eco", workflow="settlement", actor=OFFICE,
                                 title="2026年度资金清算", payload={"year": 2026, "fund": 900000})
    t = time.perf_counter()
    fill(db, args.cases, args.history_per_case)
    filled = time.perf_counter() - t
    here = InContext(settlement.id, "settlement", settlement.data, settlement.parties)
    out = []
    with db.engine.connect() as conn:
        values = cases.figures.evaluate(conn, "eco", None, here)
        assert sum(values["shares"].values()) == 900000, values["shares"]
        for what, fn in (("settlement", lambda: cases.figures.evaluate(conn, "eco", None, here)),
                         ("task force", lambda: cases.figures.table(conn, "eco"))):
            median, p95 = timed(fn, args.repeats)
            out.append((name, args.cases, args.cases * args.history_per_case, filled, what, median, p95))
        print(f"  {name}: {int(values['months_confirmed'])} months confirmed in 2026, shares "
              f"{ {k: str(v) for k, v in values['shares'].items()} }", file=sys.stderr)
    db.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--history-per-case", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--pg", default=os.environ.get("GONGZHI_TEST_PG_URL",
                                                  "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    rows = []
    for name, url in each_backend(args.pg, args.only):
        rows += run(name, url, args)
    print(f"{'database':<11} {'cases':>8} {'history':>9} {'fill s':>7} {'figures':<11} {'median ms':>10} {'p95 ms':>7}")
    for name, n, h, filled, what, median, p95 in rows:
        print(f"{name:<11} {n:>8} {h:>9} {filled:>7.1f} {what:<11} {median:>10.2f} {p95:>7.2f}")


if __name__ == "__main__":
    main()
