"""What route functions receive: the services, the signed-in viewer, the case service as it sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.accounts import Accounts
from api.auth import authenticate
from db.session import Database
from db.settings import Settings
from engine.access import CaseAccess, Viewer
from engine.attachments import Attachments
from engine.cases import Cases
from engine.clock import Clock


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    cases: Cases
    accounts: Accounts
    attachments: Attachments


# Trivial dependencies are async: a sync one costs a thread-pool hop per request.
async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]
CurrentViewer = Annotated[Viewer, Depends(authenticate)]


async def get_access(services: ServicesDep, viewer: CurrentViewer) -> CaseAccess:
    return CaseAccess(services.cases, viewer)


AccessDep = Annotated[CaseAccess, Depends(get_access)]
