"""The throwaway databases a benchmark runs on: a SQLite file in a temporary folder, and a fresh
database on the PostgreSQL server at --pg, dropped afterwards — so each bench measures both in one run."""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the server of `admin_url`; dropped when the block ends."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"gongzhi_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def each_backend(pg_url: str, only: str | None) -> Iterator[tuple[str, str]]:
    """(name, URL) of a fresh SQLite database and then a fresh PostgreSQL one (or only the one asked
    for); each is removed once the caller moves on to the next."""
    if only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            yield "sqlite", f"sqlite:///{tmp}/bench.sqlite3"
    if only in (None, "postgresql"):
        with fresh_postgres(pg_url) as url:
            yield "postgresql", url


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile of `values` (seconds) in milliseconds, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))] * 1000


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """(median ms, p95 ms, the last result) of `repeats` calls of `fn`, after one call that warms caches
    and plans."""
    fn()
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, percentile(times, 95), out
