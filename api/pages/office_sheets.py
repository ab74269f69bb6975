"""The office pages' tables as spreadsheets: the same rows the page shows, under the page's own column
headings, so a sheet passed on says what the page said."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi.responses import Response

from api.pages.render import zh_date
from api.pages.views import OverdueRow
from documents.excel import XLSX, Sheet, workbook_of
from engine.localtime import to_local


def overdue_sheets(by_unit: Sequence[OverdueRow], by_place: Sequence[OverdueRow]) -> list[Sheet]:
    return [Sheet("按责任单位", ("单位", "件数"), [[r.name, r.count] for r in by_unit], (30, 10)),
            Sheet("按地区", ("地区", "件数"), [[r.name, r.count] for r in by_place], (30, 10))]


def ladder_sheet(rows: Sequence[dict[str, Any]]) -> list[Sheet]:
    return [Sheet("督办红黄牌", ("督办等级", "被督办单位", "督办事项", "编号", "状态"),
                  [[r["card"], "、".join(r["units"]), r["title"], r["number"], r["state"]] for r in rows],
                  (10, 30, 40, 20, 14))]


def scorecard_sheet(year: int, rows: Sequence[dict[str, Any]], points: dict[str, Any] | None = None,
                    behind: Sequence[dict[str, Any]] = ()) -> list[Sheet]:
    """The record sheet; with the year's 考核细则, the points (each rule's count and points, as the page
    shows them) and every case behind a count, by its number."""
    sheets = [Sheet(f"{year}年度履职情况", ("单位", "按期完成", "逾期完成或未完成", "按期率", "当前逾期", "黄牌", "红牌"),
                    [[r["unit"], r["met"], r["late"], r["rate_text"], r["overdue"], r["yellow"], r["red"]]
                     for r in rows], (30, 10, 16, 10, 10, 8, 8))]
    if points is None:
        return sheets
    titles = [r["title"] for r in points["legend"]]
    columns = ["单位", *(f"{t}（件）" for t in titles), *(f"{t}（分）" for t in titles), "扣分", "加分", "得分"]
    sheets.append(Sheet("考核得分", columns, [
        [u["unit"], *(ln["count"] for ln in u["lines"]), *(ln["points"] for ln in u["lines"]), u["deductions"],
         u["bonuses"], u["score"]] for u in points["rows"]], (30, *(10,) * (2 * len(titles)), 8, 8, 8)))
    sheets.append(Sheet("扣分加分明细", ("单位", "考核项目", "类别", "编号", "事项", "日期"), [
        [b["unit"], b["rule"], b["kind"], b["number"], b["case"], zh_date(b["at"])] for b in behind],
        (30, 16, 6, 22, 40, 16)))
    return sheets


def download(sheets: list[Sheet], stem: str, now: datetime) -> Response:
    name = f"{stem}-{to_local(now):%Y%m%d}.xlsx"
    return Response(workbook_of(sheets), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
