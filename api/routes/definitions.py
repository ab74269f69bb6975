"""Workflow definitions of my task force, and their diagrams."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import PlainTextResponse

from api.deps import AccessDep
from api.schemas.common import errors
from api.schemas.definitions import DefinitionRead, DefinitionSummary
from engine.access import CaseAccess
from engine.definition import Definition
from engine.diagram import mermaid
from engine.errors import NotFound

router = APIRouter(prefix="/definitions", tags=["definitions"])
DefinitionId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _listed(access: CaseAccess) -> list[tuple[DefinitionSummary, Definition]]:
    out = []
    with access.cases.db.read() as conn:
        rows = access.definitions(conn)
        latest = {r.name: r.version for r in rows}
        for r in rows:
            d = access.cases.machine(conn, r.id).definition
            out.append((DefinitionSummary(id=r.id, task_force=r.task_force_code, name=r.name, version=r.version,
                                          title=r.title, content_hash=r.content_hash,
                                          latest=latest[r.name] == r.version), d))
    return out


def _one(access: CaseAccess, definition_id: int) -> tuple[DefinitionSummary, Definition]:
    for summary, d in _listed(access):
        if summary.id == definition_id:
            return summary, d
    raise NotFound(f"definition {definition_id} not found", definition_id=definition_id)


@router.get("", response_model=list[DefinitionSummary], responses=errors(401),
            summary="本专班的流程定义 / the workflow definitions of my task force")
def list_definitions(access: AccessDep) -> list[DefinitionSummary]:
    return [s for s, _ in _listed(access)]


@router.get("/{definition_id}", response_model=DefinitionRead, responses=errors(401, 404, 422),
            summary="流程定义详情 / one definition: roles, states, events and their fields")
def get_definition(access: AccessDep, definition_id: DefinitionId) -> DefinitionRead:
    return DefinitionRead.of(*_one(access, definition_id))


@router.get("/{definition_id}/diagram", response_class=Response, responses={
    200: {"content": {"text/plain": {"schema": {"type": "string"}}},
          "description": "Mermaid `stateDiagram-v2` text generated from the definition"},
    **errors(401, 404, 422)}, summary="流程图（Mermaid）/ the definition as a Mermaid state diagram")
def get_diagram(access: AccessDep, definition_id: DefinitionId) -> PlainTextResponse:
    _, d = _one(access, definition_id)
    return PlainTextResponse(mermaid(d), media_type="text/plain; charset=utf-8")
