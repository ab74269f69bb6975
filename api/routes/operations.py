"""Liveness, readiness and metrics: what a load balancer and Prometheus ask, unauthenticated."""

from __future__ import annotations

import functools
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from api import metrics
from db import migrate
from db.repositories import operations as ops_repo
from db.session import fault_of

router = APIRouter(tags=["operations"])
log = logging.getLogger("gongzhi.ready")


class Health(BaseModel):
    status: str
    database: str


class Ready(BaseModel):
    status: str
    database: str
    # "ok", or why a write was refused (the probe upserts one row and commits)
    writes: str
    migrations: str
    harfbuzz_subset: bool | str
    # task -> seconds since the newest heartbeat of any of its workers
    background: dict[str, float] = {}
    # what makes the status "error"
    problems: list[str] = []
    warnings: list[str] = []


@router.get("/health", summary="存活检查 / liveness, including the database", response_model=Health,
            responses={503: {"model": Health, "description": "the database does not answer"}})
def health(request: Request) -> JSONResponse:
    db = request.app.state.services.db
    try:
        with db.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the point of /health is to report, not to raise
        return JSONResponse({"status": "error", "database": str(exc.__class__.__name__)}, status_code=503)
    return JSONResponse({"status": "ok", "database": db.url.get_backend_name()})


@functools.cache
def harfbuzz_status() -> bool | str:
    """documents.render.check_harfbuzz_subset(), once per process (it cannot change while running)."""
    try:
        from documents.render import check_harfbuzz_subset
    except Exception as exc:  # WeasyPrint missing or broken: say so rather than fail readiness
        return f"documents.render cannot be imported: {exc.__class__.__name__}: {exc}"
    return check_harfbuzz_subset()


@router.get("/ready", summary="就绪检查 / readiness: the database takes writes, migrations at head, background keeps up",
            response_model=Ready,
            responses={503: {"model": Ready, "description": "not ready: database, migrations or background work"}})
def ready(request: Request) -> JSONResponse:
    services = request.app.state.services
    db, now = services.db, services.clock.now()
    out = {"status": "ok", "database": db.url.get_backend_name(), "writes": "unknown", "migrations": "unknown",
           "background": {}, "problems": [], "warnings": []}

    def problem(text: str) -> None:
        out["status"] = "error"
        out["problems"].append(text)

    try:
        current, heads = migrate.current_heads(db.engine), migrate.head_revisions()
        out["migrations"] = "head" if current == heads else f"at {sorted(current) or 'nothing'}, head is {sorted(heads)}"
        if current != heads:
            problem(f"migrations {out['migrations']}")
    except Exception as exc:
        out["database"] = f"unreachable: {exc.__class__.__name__}"
        problem(f"database unreachable: {exc.__class__.__name__}")
    beats = None
    if out["migrations"] == "head":
        # A database that answers reads may still refuse every write (read-only, disk full).
        try:
            with db.write() as conn:
                ops_repo.probe_write(conn, now)
            out["writes"] = "ok"
        except Exception as exc:
            out["writes"] = f"refused: {fault_of(exc) or exc.__class__.__name__}"
            problem(f"the database refuses writes ({out['writes']})")
        try:
            with db.read() as conn:
                beats = ops_repo.newest_beats(conn)
        except Exception as exc:
            problem(f"heartbeats unreadable: {exc.__class__.__name__}")
        limit = services.settings.heartbeat_stale_seconds
        for task, at in sorted((beats or {}).items()):
            age = round(max(0.0, (now - at).total_seconds()), 1)
            out["background"][task] = age
            if age > limit:
                problem(f"background task {task!r}: last heartbeat {age:.0f} s ago (limit {limit} s)")
    hb = harfbuzz_status()
    out["harfbuzz_subset"] = hb
    if hb is not True:
        # Loud: without it every Chinese PDF takes 20-30 s to render.
        out["warnings"].append(f"PDF rendering will be slow: {hb}")
        log.error("NOT READY FOR DOCUMENTS: libharfbuzz-subset problem: %s", hb)
    if beats == {}:  # read, and empty: not a failure, but nothing has ever done the background work
        out["warnings"].append("no background worker has ever run against this database "
                               "(gongzhi serve runs one; with --no-background, run gongzhi worker)")
    return JSONResponse(out, status_code=200 if out["status"] == "ok" else 503)


@router.get("/metrics", summary="Prometheus 指标 / metrics in the Prometheus text format",
            response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "request latencies of this process; backlog, heartbeats and failures "
                                            "read from the database at scrape time"}})
def prometheus_metrics(request: Request) -> Response:
    services = request.app.state.services
    return Response(metrics.exposition(services.db, services.clock.now()), media_type=metrics.CONTENT_TYPE)
