"""One router module per resource. A new resource adds its module here (links, documents, views, ...)."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    accounts,
    assessment,
    attachments,
    cases,
    definitions,
    documents,
    figures,
    notices,
    operations,
    time,
    unit_work,
)


def routers() -> list[APIRouter]:
    return [operations.router, accounts.router, definitions.router, cases.router, attachments.router,
            documents.router, figures.router, assessment.router, time.router, notices.router, unit_work.router]
