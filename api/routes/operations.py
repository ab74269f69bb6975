"""Liveness and readiness."""

from __future__ import annotations

import functools
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from db import migrate

router = APIRouter(tags=["operations"])
log = logging.getLogger("gongzhi.ready")


class Health(BaseModel):
    status: str
    database: str


class Ready(BaseModel):
    status: str
    database: str
    migrations: str
    harfbuzz_subset: bool | str
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


@router.get("/ready", summary="就绪检查 / readiness: database reachable, migrations at head", response_model=Ready,
            responses={503: {"model": Ready, "description": "not ready: database or migrations"}})
def ready(request: Request) -> JSONResponse:
    db = request.app.state.services.db
    out = {"status": "ok", "database": db.url.get_backend_name(), "migrations": "unknown", "warnings": []}
    try:
        current, heads = migrate.current_heads(db.engine), migrate.head_revisions()
        out["migrations"] = "head" if current == heads else f"at {sorted(current) or 'nothing'}, head is {sorted(heads)}"
        if current != heads:
            out["status"] = "error"
    except Exception as exc:
        out.update(status="error", database=f"unreachable: {exc.__class__.__name__}")
    hb = harfbuzz_status()
    out["harfbuzz_subset"] = hb
    if hb is not True:
        # Loud: without it every Chinese PDF takes 20-30 s to render.
        out["warnings"].append(f"PDF rendering will be slow: {hb}")
        log.error("NOT READY FOR DOCUMENTS: libharfbuzz-subset problem: %s", hb)
    return JSONResponse(out, status_code=200 if out["status"] == "ok" else 503)
