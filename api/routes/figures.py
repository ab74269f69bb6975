"""Figures across cases (figures.yaml): the task force's own, and those of one case."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AccessDep, ServicesDep
from api.errors import ApiError
from api.routes.cases import CaseId
from api.schemas.common import errors
from api.schemas.figures import FigureRead
from engine.figures import InContext

router = APIRouter(tags=["figures"])


@router.get("/figures", response_model=list[FigureRead], responses=errors(401, 403),
            summary="专班统计指标 / the task force's declared figures, computed now (office only)")
def task_force_figures(access: AccessDep, services: ServicesDep) -> list[FigureRead]:
    # Figures may hold every unit's numbers side by side: the office's view, like the scorecards.
    if not access.viewer.office:
        raise ApiError(403, "office_only", "仅专班办公室可查看全部统计指标", "only the task-force office sees these figures")
    with services.db.read() as conn:
        rows = services.cases.figures.table(conn, access.viewer.task_force)
    return [FigureRead(**r) for r in rows]


@router.get("/cases/{case_id}/figures", response_model=list[FigureRead], responses=errors(401, 404, 422),
            summary="案件统计指标 / the figures declared for cases of this workflow, computed for this case")
def case_figures(case_id: CaseId, access: AccessDep, services: ServicesDep) -> list[FigureRead]:
    with services.db.read() as conn:
        case = access.load(conn, case_id)
        workflow = access.machine(conn, case).definition.name
        rows = services.cases.figures.table(conn, case.task_force_code,
                                            InContext(case.id, workflow, case.data, case.parties))
    return [FigureRead(**r) for r in rows]
