"""The yearly assessment as the API returns it (the `assessment:` rules of figures.yaml)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class RuleRead(BaseModel):
    code: str
    title: str
    kind: str  # deduct | bonus
    counts: str  # late | met | overdue | card:KIND | selection:NAME
    points: str  # per item, or an expression in n (the count)
    cap: float | None


class LineRead(BaseModel):
    code: str
    title: str
    kind: str
    count: int
    points: float  # ≥ 0: deducted (kind deduct) or added (bonus), after the cap


class CaseBehindRead(BaseModel):
    case_id: int
    number: str
    title: str
    at: datetime | None  # when it counted: the deadline's outcome, the card, the due date, the opening


class UnitAssessmentRead(BaseModel):
    unit: str
    unit_name: str
    deadlines_met: int
    deadlines_late: int
    on_time_rate: float | None
    overdue_now: int  # open work past due now (for a past year: at its end, and still open)
    cards: dict[str, int]
    base: float | None  # null: no rules declared for the year
    deductions: float
    bonuses: float
    score: float | None
    lines: list[LineRead]


class UnitAssessmentDetail(UnitAssessmentRead):
    behind: dict[str, list[CaseBehindRead]]  # rule code → the cases its count is made of


class AssessmentRead(BaseModel):
    year: int
    title: str | None
    base: float | None
    rules: list[RuleRead]
    units: list[UnitAssessmentRead]
