"""Transitions per second through engine.fire beside the same unit of work in raw SQL, in one run.

Raw unit of work: one UPDATE of the case row (version-checked), one INSERT of a history row, one
commit — through the bare driver (sqlite3 in WAL with synchronous=NORMAL; psycopg). The engine adds
permission, payload validation, the hash chain and its own bookkeeping on top of exactly that.

    python bench/fire_throughput.py [--n 2000] [--pg URL] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.backends import fresh_postgres  # noqa: E402
from db.session import Database  # noqa: E402
from engine.actors import Actor  # noqa: E402
from engine.bootstrap import init_database  # noqa: E402
from engine.cases import Cases  # noqa: E402
from workflows import ROOT  # noqa: E402

REFERRER = Actor.of("bench-ref", "as_sthjj", "member")  # both in 安顺市: a direct referral
RECEIVER = Actor.of("bench-rcv", "as_pb_gov", "member")
UPDATE = ("UPDATE cases SET state = {p}, version = {p}, head_hash = {p}, updated_at = {p} "
          "WHERE id = {p} AND version = {p}")
INSERT = ("INSERT INTO case_history (case_id, seq, kind, event, from_state, to_state, actor_id, actor_unit, "
          "actor_role, payload, at, prev_hash, hash) VALUES ({ps})")


def make_cases(cases: Cases, n: int) -> list:
    """n referral cases sitting in `in_progress`, where `progress` loops (role + payload checked)."""
    out = []
    for i in range(n):
        with cases.db.write() as conn:
            c = cases.start(conn, task_force="two_lakes", workflow="referral", actor=REFERRER, title=f"基准{i}",
                            payload={"problem": "基准测试"})
        for event, actor, payload in (("refer", REFERRER, {"receiver": "as_pb_gov", "reason": "基准"}),
                                      ("accept", RECEIVER, None), ("start_work", RECEIVER, None)):
            with cases.db.write() as conn:
                c = cases.fire(conn, c, event, actor, payload)
        out.append(c)
    return out


def run_threads(n_threads: int, work) -> float:
    barrier = threading.Barrier(n_threads + 1)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:  # a benchmark that hides a failure measures nothing
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


def engine_rate(cases: Cases, starts: list, clients: int, per_client: int) -> float:
    def work(i: int) -> None:
        case = starts[i]
        for k in range(per_client):
            with cases.db.write() as conn:  # one event, one unit of work, as a request makes it
                case = cases.fire(conn, case, "progress", RECEIVER, {"note": f"第{k}次进展"})
        starts[i] = case

    return clients * per_client / run_threads(clients, work)


def raw_params(case_id: int, version: int, k: int) -> tuple[tuple, tuple]:
    now = datetime.now(UTC)
    payload = json.dumps({"note": f"第{k}次进展"}, ensure_ascii=False)
    h = hashlib.sha256(f"{case_id}:{version}".encode()).hexdigest()
    upd = ("in_progress", version + 1, h, now, case_id, version)
    ins = (case_id, version + 1, "event", "progress", "in_progress", "in_progress", "raw", "as_pb_gov", "receiver",
           payload, now, h, h)
    return upd, ins


def sqlite_raw_rate(path: str, starts: list, clients: int, per_client: int) -> float:
    upd_sql, ins_sql = UPDATE.format(p="?"), INSERT.format(ps=", ".join("?" * 13))

    def work(i: int) -> None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        case = starts[i]
        version = case.version
        for k in range(per_client):
            upd, ins = raw_params(case.id, version, k)
            upd = upd[:3] + (upd[3].replace(tzinfo=None).isoformat(" "),) + upd[4:]
            ins = ins[:10] + (ins[10].replace(tzinfo=None).isoformat(" "),) + ins[11:]
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute(upd_sql, upd).rowcount != 1:
                raise RuntimeError("raw update lost")
            conn.execute(ins_sql, ins)
            conn.execute("COMMIT")
            version += 1
        conn.close()

    return clients * per_client / run_threads(clients, work)


def pg_raw_rate(dsn: str, starts: list, clients: int, per_client: int) -> float:
    upd_sql, ins_sql = UPDATE.format(p="%s"), INSERT.format(ps=", ".join(["%s"] * 13))

    def work(i: int) -> None:
        with psycopg.connect(dsn) as conn:
            case = starts[i]
            version = case.version
            for k in range(per_client):
                upd, ins = raw_params(case.id, version, k)
                with conn.cursor() as cur:
                    cur.execute(upd_sql, upd)
                    if cur.rowcount != 1:
                        raise RuntimeError("raw update lost")
                    cur.execute(ins_sql, ins)
                conn.commit()
                version += 1

    return clients * per_client / run_threads(clients, work)


def bench_backend(name: str, url: str, raw, raw_target: str, n: int, rounds: int) -> list[tuple]:
    db = Database(url)
    init_database(db, ROOT)
    cases = Cases(db)
    rows = []
    raw_numbers: set[str] = set()
    for clients in (1, 8):
        per_client = n // clients
        # Warm both paths (compiled statements, the machine cache, the pool).
        engine_rate(cases, make_cases(cases, clients), clients, 20)
        warm_raw = make_cases(cases, clients)
        raw(raw_target, warm_raw, clients, 20)
        raw_numbers.update(c.number for c in warm_raw)
        eng_rates, raw_rates = [], []
        # Alternate the two sides so drift in the machine's load hits both alike; report medians.
        for r in range(rounds):
            raw_cases, eng_cases = make_cases(cases, clients), make_cases(cases, clients)
            raw_numbers.update(c.number for c in raw_cases)
            sides = [(raw_rates, raw, raw_target, raw_cases), (eng_rates, engine_rate, cases, eng_cases)]
            for bucket, run, target, starts in sides if r % 2 == 0 else reversed(sides):
                bucket.append(run(target, starts, clients, per_client))
        r_eng, r_raw = statistics.median(eng_rates), statistics.median(raw_rates)
        rows.append((name, clients, r_eng, r_raw, r_eng / r_raw))
    # Raw rows carry a dummy hash; every case the engine wrote must replay and chain.
    with db.read() as conn:
        found = cases.verify(conn)
    problems = [p for p in found if p.split(":")[0].removeprefix("case ") not in raw_numbers]
    if problems:
        raise SystemExit(f"verify failed after the benchmark: {problems[:3]}")
    db.dispose()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="transitions per measurement (split over the clients)")
    ap.add_argument("--pg", default=os.environ.get("GONGZHI_TEST_PG_URL",
                                                  "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per side; medians are reported")
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    rows = []
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/bench.sqlite3"
            rows += bench_backend("sqlite", f"sqlite:///{path}", sqlite_raw_rate, path, args.n, args.rounds)
    if args.only in (None, "postgresql"):
        with fresh_postgres(args.pg) as fresh:
            url = make_url(fresh)
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            rows += bench_backend("postgresql", fresh, pg_raw_rate, dsn, args.n, args.rounds)
    print(f"{'database':<11} {'clients':>7} {'engine/s':>10} {'raw/s':>10} {'engine/raw':>11}")
    for name, clients, eng, raw, ratio in rows:
        print(f"{name:<11} {clients:>7} {eng:>10.0f} {raw:>10.0f} {ratio:>10.2f}x")


if __name__ == "__main__":
    main()
