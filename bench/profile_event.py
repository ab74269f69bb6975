"""Where the time of one HTTP event goes: POST /cases/{id}/events profiled in-process.

The app runs in this process behind Starlette's TestClient (no uvicorn, no network), one client, so the
profile holds only the request's own work. For each database (SQLite; PostgreSQL when --pg is given or
GONGZHI_TEST_PG_URL is set) and each kind of request (plain, with Idempotency-Key) it fires `progress`
--n times on one referral case under cProfile and prints the mean wall time per event and the share spent
in the parts a reader would ask about: statements at the driver, commit, the engine's `fire`, the
idempotency record, authentication, request parsing and the JSON reply. bench/http_events.py measures the
same request end to end over HTTP with 8 clients; this one says what a single request is made of.

    python bench/profile_event.py [--n 300] [--pg URL] [--only sqlite|postgresql] [--top 0]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backends import each_backend  # noqa: E402
from http_events import PASSWORD, prepare  # noqa: E402


def _driver(f: str, fn: str, name: str) -> bool:
    # sqlite3's methods are built-ins (file "~", function "<method 'execute' of 'sqlite3.Cursor' objects>");
    # psycopg's are Python functions in psycopg/cursor.py and psycopg/connection.py.
    return (f == "~" and f"'{name}'" in fn and "sqlite3" in fn) or (fn == name and "/psycopg/" in f)


# (label, predicate over a pstats key's file and function) — cumulative time, outermost matches only.
PARTS = [
    ("the whole request in the app", lambda f, fn: fn == "__call__" and f.endswith("fastapi/applications.py")),
    ("SQLAlchemy: execute, incl. driver", lambda f, fn: fn == "execute" and f.endswith("sqlalchemy/engine/base.py")),
    ("  of which the driver runs statements", lambda f, fn: _driver(f, fn, "execute")),
    ("commit at the driver", lambda f, fn: _driver(f, fn, "commit")),
    ("engine: Cases.fire", lambda f, fn: fn == "fire" and f.endswith("engine/cases.py")),
    ("idempotency record (claim/find/store)", lambda f, fn: fn in ("claim", "store", "find", "purge")
     and "repositories/idempotency" in f),
    ("authentication", lambda f, fn: fn == "authenticate" and f.endswith("api/auth.py")),
    ("FastAPI: solving dependencies", lambda f, fn: fn == "solve_dependencies"),
    ("reply: JSON rendering", lambda f, fn: fn == "render" and "responses" in f),
]


async def _inline(func, *args, abandon_on_cancel=False, cancellable=None, limiter=None):
    return func(*args)


def _run_inline() -> None:
    """Sync endpoints and dependencies run on the event loop's thread, where the profiler is on:
    cProfile sees one thread only. The work per request is the same; only its thread changes."""
    import anyio.to_thread
    import fastapi.telemetry._runtime as runtime

    anyio.to_thread.run_sync = _inline
    if hasattr(runtime, "run_sync"):
        runtime.run_sync = _inline


def profile(url: str, n: int, idempotent: bool, top: int) -> None:
    from starlette.testclient import TestClient

    from api.app import create_app
    from db.settings import Settings

    case_id = prepare(url, 1)[0]
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(database_url=url, data_dir=data_dir, log_level="WARNING", password_profile="cheapest")
        with TestClient(create_app(settings)) as client:
            token = client.post("/auth/token", data={"username": "bench", "password": PASSWORD}).json()["access_token"]

            def fire(k: int) -> None:
                headers = {"Authorization": f"Bearer {token}"}
                if idempotent:
                    headers["Idempotency-Key"] = uuid.uuid4().hex
                r = client.post(f"/cases/{case_id}/events", headers=headers,
                                json={"event": "progress", "payload": {"note": f"第{k}次进展"}})
                assert r.status_code == 200, r.text

            for k in range(30):  # warm: compiled machines, statement caches, the account cache
                fire(k)
            t0 = time.perf_counter()
            for k in range(n):
                fire(k)
            plain = (time.perf_counter() - t0) / n
            prof = cProfile.Profile()
            t0 = time.perf_counter()
            client.portal.call(prof.enable)
            for k in range(n):
                fire(k)
            client.portal.call(prof.disable)
            total = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    kind = "with Idempotency-Key" if idempotent else "plain"
    app = _outermost(stats, PARTS[0][1]) or total
    print(f"  {kind}: {plain * 1000:.2f} ms per event unprofiled (TestClient included); profiled:")
    for label, match in PARTS:
        cum = _outermost(stats, match)
        print(f"    {label:<40} {cum / n * 1000:6.2f} ms  {cum / app:6.1%} of the app's time")
    calls = sum(v[1] for (f, _l, fn), v in stats.stats.items() if _driver(f, fn, "execute"))
    print(f"    statements per event: {calls / n:.1f}")
    if top:  # the project's own functions by cumulative time: where a request's time goes, by name
        own = sorted(((v[3], v[1], k) for k, v in stats.stats.items() if str(ROOT) in k[0] and "/.venv/" not in k[0]),
                     reverse=True)[:top]
        for cum, calls, (f, line, fn) in own:
            print(f"      {cum / n * 1000:6.2f} ms  {calls / n:5.1f}×  {Path(f).relative_to(ROOT)}:{line} {fn}")


def _outermost(stats: pstats.Stats, match) -> float:
    """Cumulative time of the matching functions, not counting a match called from another match."""
    keys = {k for k in stats.stats if match(k[0], k[2])}
    total = 0.0
    for k in keys:
        callers = stats.stats[k][4]
        inner = sum(v[3] for c, v in callers.items() if c in keys)  # cumulative time spent when called by a match
        total += stats.stats[k][3] - inner
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--pg", default=os.environ.get("GONGZHI_TEST_PG_URL"))
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    ap.add_argument("--top", type=int, default=0, help="also print the N functions with the most own time")
    args = ap.parse_args()
    _run_inline()
    only = args.only or (None if args.pg else "sqlite")
    for idempotent in (False, True):
        for name, url in each_backend(args.pg, only):
            print(name)
            profile(url, args.n, idempotent, args.top)


if __name__ == "__main__":
    main()
