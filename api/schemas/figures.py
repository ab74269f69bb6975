"""A figure as the API returns it (figures.yaml of the task force)."""

from __future__ import annotations

from pydantic import BaseModel


class FigureRead(BaseModel):
    name: str
    title: str
    unit: str  # the unit of measure shown after the value (元, 分), may be empty
    # A number, a truth value, null (nothing to compute over), or unit code → number.
    value: float | int | bool | dict[str, float | int | None] | None
