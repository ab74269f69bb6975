"""The FastAPI application: a thin layer over the engine."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from db.session import Database
from db.settings import Settings, get_settings


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = db or Database(settings.resolved_database_url())
    app = FastAPI(title="gongzhi 共治", version="0.1.0",
                  description="跨区域联动治理工作流引擎 — joint governance workflow engine")
    app.state.db = db

    @app.get("/health", tags=["operations"], summary="存活检查 / liveness, including the database")
    def health() -> JSONResponse:
        try:
            with db.read() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the point of /health is to report, not to raise
            return JSONResponse({"status": "error", "database": str(exc.__class__.__name__)}, status_code=503)
        return JSONResponse({"status": "ok", "database": db.url.get_backend_name()})

    return app
