"""The yearly assessment (考核): each unit's points, deductions and bonuses, and the cases behind them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import AccessDep, ServicesDep
from api.errors import ApiError
from api.schemas.assessment import AssessmentRead, CaseBehindRead, UnitAssessmentDetail, UnitAssessmentRead
from api.schemas.common import errors
from engine import assessment
from engine.localtime import local_date

router = APIRouter(tags=["assessment"])
Year = Annotated[int | None, Query(ge=2000, le=2999, description="年度（默认今年）")]


def _units(conn, access, services, year: int) -> tuple[object, list[assessment.UnitScore]]:
    spec = services.cases.figures.spec(conn, access.viewer.task_force)
    scores = assessment.assess(conn, access.viewer.task_force, spec, year, services.clock.now())
    # The office assesses every unit; a unit sees its own record.
    if not access.viewer.office:
        scores = [s for s in scores if s.unit == access.viewer.unit]
    return spec, scores


def _read(s: assessment.UnitScore, names: dict[str, str]) -> dict:
    return {"unit": s.unit, "unit_name": names.get(s.unit, s.unit), "deadlines_met": s.deadlines_met,
            "deadlines_late": s.deadlines_late, "on_time_rate": s.on_time_rate, "overdue_now": s.overdue_now,
            "cards": dict(s.tally.cards), "base": s.base, "deductions": s.deductions, "bonuses": s.bonuses,
            "score": s.score, "lines": [ln.__dict__ for ln in s.lines]}


@router.get("/assessment", response_model=AssessmentRead, responses=errors(401, 422),
            summary="年度考核：各单位得分、扣分与加分 / each unit's score for a year, by the task force's rules")
def year_assessment(access: AccessDep, services: ServicesDep, year: Year = None) -> AssessmentRead:
    year = year or local_date(services.clock.now()).year
    with services.db.read() as conn:
        spec, scores = _units(conn, access, services, year)
        names = assessment.unit_names(conn)
    rules = spec.assessment.get(year)
    return AssessmentRead(
        year=year, title=rules.title if rules else None, base=rules.base if rules else None,
        rules=[{"code": r.code, "title": r.title, "kind": r.kind, "counts": r.counts, "points": str(r.points.text),
                "cap": r.cap} for r in (rules.rules.values() if rules else ())],
        units=[UnitAssessmentRead(**_read(s, names)) for s in scores])


@router.get("/assessment/{unit}", response_model=UnitAssessmentDetail, responses=errors(401, 404, 422),
            summary="单位考核明细：每项扣分、加分背后的案件 / one unit's score with the cases behind each count")
def unit_assessment(access: AccessDep, services: ServicesDep,
                    unit: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")],
                    year: Year = None) -> UnitAssessmentDetail:
    year = year or local_date(services.clock.now()).year
    with services.db.read() as conn:
        spec, scores = _units(conn, access, services, year)
        found = next((s for s in scores if s.unit == unit), None)
        if found is None:
            raise ApiError(404, "not_found", "没有该单位的考核记录", f"no assessment of unit {unit!r} in {year}",
                           unit=unit)
        behind = assessment.behind_all(conn, access.viewer.task_force, spec, year, services.clock.now(), unit)
        names = assessment.unit_names(conn)
    return UnitAssessmentDetail(**_read(found, names), behind={
        code: [CaseBehindRead(**b.__dict__) for b in by_unit.get(unit, [])] for code, by_unit in behind.items()})
