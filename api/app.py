"""The FastAPI application: a thin layer over the engine."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api import errors, pages
from api import logging as gz_logging
from api.accounts import Accounts, hasher
from api.deps import Services
from api.middleware import LastResort, RequestContext, SecurityHeaders
from api.routes import routers
from db.session import Database
from db.settings import Settings, get_settings
from engine.attachments import Attachments, BlobStore
from engine.cases import Cases
from engine.clock import Clock, SystemClock

DESCRIPTION = """跨区域联动治理工作流引擎 — joint governance workflow engine.

认证 / authentication: `POST /auth/token` (OAuth2 password form) gives a bearer token; `POST /auth/session`
gives a session cookie for pages (unsafe requests then also send `X-CSRF-Token`); other systems send an
API key as `X-API-Key` (or as a bearer token). Every endpoint but `/health`, `/ready`, `/metrics` and sign-in needs one.

可见范围 / scope: a unit sees the cases it is a party to; the task force's office sees all of them; an
organisation role that a workflow lets act on every case (convenor, office head) sees that workflow's
cases. A case you may not see answers 404; one you see but may not move answers 403 with the reason.

错误 / errors: one body everywhere — `{"code", "message_zh", "message_en", "details", "request_id"}`.
Send `If-Match: "<version>"` (the case's ETag) with events to refuse lost updates (409 `stale_version`);
without it an event applies to the case as it is (a race lost to another writer is retried in the server).
`Idempotency-Key` makes a retried POST safe. Failed sign-ins delay the next try (429 with `Retry-After`).
"""


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None, db: Database | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = db or Database(settings.resolved_database_url())
    clock = clock or SystemClock()
    gz_logging.configure(settings.log_level, settings.log_json)
    cases = Cases(db, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # The embedded shape: the server process also runs the clock, the documents and the notices.
        work = None
        if settings.background:
            from api.background import Background
            from workflows import ROOT

            work = app.state.background = Background(db, cases, settings, ROOT).start()
        try:
            yield
        finally:
            if work is not None:
                work.stop()

    app = FastAPI(title="gongzhi 共治", version="0.1.0", description=DESCRIPTION,
                  generate_unique_id_function=_operation_id, lifespan=lifespan)
    app.state.background = None
    app.state.services = Services(
        settings=settings, db=db, clock=clock, cases=cases,
        accounts=Accounts(hasher(settings.password_profile), timedelta(hours=settings.token_ttl_hours)),
        attachments=Attachments(BlobStore(settings.resolved_attachments_dir()), clock,
                                max_bytes=settings.attachment_max_bytes, types=settings.attachment_types),
    )
    errors.install(app)
    for router in routers():
        app.include_router(router)
    pages.install(app)
    app.add_middleware(LastResort)
    app.add_middleware(RequestContext, max_json_bytes=settings.max_json_bytes,
                       max_upload_bytes=settings.attachment_max_bytes)
    app.add_middleware(SecurityHeaders)
    return app
