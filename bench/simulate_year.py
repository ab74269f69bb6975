"""A simulated year of the whole mechanism (target: < 30 s), on SQLite and PostgreSQL.

Runs `simulation.driver.run` — what `gongzhi simulate` runs — on a fresh database per backend and
prints the run time, the events fired and the cases per workflow.

    python bench/simulate_year.py [--task-force two_lakes] [--year 2026] [--seed 1] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.backends import each_backend  # noqa: E402
from db.session import Database  # noqa: E402
from engine.bootstrap import init_database  # noqa: E402
from engine.cases import Cases  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from simulation.driver import run  # noqa: E402
from workflows import ROOT  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task-force", default="two_lakes")
    ap.add_argument("--year", type=int, default=2026)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    args = ap.parse_args()
    pg = os.environ.get("GONGZHI_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    for name, url in each_backend(pg, args.only):
        db = Database(url)
        try:
            init_database(db, ROOT)
            clock = FixedClock(datetime(args.year, 1, 1, tzinfo=UTC))
            report = run(Cases(db, clock), clock, task_force=args.task_force, year=args.year, seed=args.seed,
                         root=ROOT)
        finally:
            db.dispose()
        per = Counter()
        for (workflow, _), n in report.by_state.items():
            per[workflow] += n
        print(f"{name:<11} {report.seconds:6.1f} s (target < 30 s)  {report.events} events by people, "
              f"{report.timers['fired']} by the clock, {sum(per.values())} cases, verify "
              f"{'OK' if not report.problems else 'FAILED'}")
        print("            " + ", ".join(f"{w} {n}" for w, n in sorted(per.items())))


if __name__ == "__main__":
    main()
