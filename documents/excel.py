"""Spreadsheets the office exchanges with its units: the 问题清单 and the “回头看” table.

The look-back table is the form of seed 002 (饮用水水源地已整改环境问题“回头看”情况统计表) with exactly
its columns, in its order, one header row and no merged cells: its notes forbid adding or removing
rows or columns, merging cells or reordering, so that the units' returns can be read back by machine.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from copy import copy
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter

from documents.contexts import PROBLEM_COLUMNS, problem_rows
from documents.records import CaseRecord
from documents.render import cn_date
from engine.localtime import local_date

LOOKBACKS = "lookbacks"  # the case data key the look-back table reads (documents/contexts.py)
LOOKBACK_COLUMNS = ("问题序号", "所在地", "水源地名称", "已整改问题具体情况", "“回头看”情况", "是否完成整治", "备注")
PROBLEM_LIST_COLUMNS = ("序号", *PROBLEM_COLUMNS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def lookback_rows(record: CaseRecord) -> list[list[Any]]:
    """One row per problem, with its latest look-back (empty cells where none is recorded yet)."""
    latest = {int(entry["problem_no"]): entry for entry in record.get(LOOKBACKS) or ()}
    rows = []
    for no, problem in enumerate(record.require("problems"), 1):
        done = latest.get(no)
        situation = problem["text"] + (f"；整改措施：{problem['measures']}" if problem.get("measures") else "")
        rows.append([
            no, problem.get("location") or "", problem.get("source") or "", situation,
            done["finding"] if done else "", ("是" if done["done"] else "否") if done else "",
            (done.get("remark") or "") if done else "",
        ])
    return rows


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    widths: Sequence[float]


# Named once per workbook: a style given to each cell as objects is looked up in the workbook's style
# table cell by cell (2.7 s for 10,000 rows); a named style is one look-up.
_HEAD = NamedStyle("gongzhi_head", font=Font(bold=True), border=_BORDER,
                   alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
_BODY = NamedStyle("gongzhi_body", border=_BORDER, alignment=Alignment(vertical="center", wrap_text=True))


def _fill(ws: Any, sheet: Sheet) -> None:
    """Rows streamed into a write-only sheet, each cell given its named style as it is written."""
    ws.title = sheet.title
    for index, width in enumerate(sheet.widths, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"

    def cells(values: Sequence[Any], style: str) -> list[WriteOnlyCell]:
        out = []
        for value in values:
            cell = WriteOnlyCell(ws, value=value)
            cell.style = style
            out.append(cell)
        return out

    ws.append(cells(sheet.columns, _HEAD.name))
    for row in sheet.rows:
        ws.append(cells(row, _BODY.name))


def workbook_of(sheets: Sequence[Sheet]) -> bytes:
    """Several sheets, each as `workbook` lays one out (a page with two tables keeps them apart)."""
    book = Workbook(write_only=True)
    book.add_named_style(copy(_HEAD))
    book.add_named_style(copy(_BODY))
    for sheet in sheets:
        _fill(book.create_sheet(), sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook(sheet: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]) -> bytes:
    """One sheet: the header in row 1, the rows below, ruled and wrapped; no merged cells."""
    return workbook_of([Sheet(sheet, columns, rows, widths)])


def keeps_lookbacks(definition: Any) -> bool:
    """A mechanism whose events record look-backs in the key `lookback_rows` reads keeps this table."""
    return any(e.name == "append_item" and e.kwargs().get("key") == LOOKBACKS
               for ev in definition.events.values() for e in ev.effects)


def lookback_xlsx(record: CaseRecord) -> bytes:
    """The “回头看” table of a case's problem list, as seed 002's 统计表."""
    return workbook("回头看情况统计表", LOOKBACK_COLUMNS, lookback_rows(record), (10, 16, 18, 48, 36, 12, 16))


def problem_list_xlsx(record: CaseRecord) -> bytes:
    """The 问题清单 of a case, with the columns of its PDF attachment."""
    rows = [[no, *row] for no, row in enumerate(problem_rows(record), 1)]
    return workbook("问题清单", PROBLEM_LIST_COLUMNS, rows, (8, 14, 18, 40, 32, 16, 16, 16))


DUE_COLUMNS = ("序号", "编号", "事项", "类型", "状态", "承办单位", "到期日", "逾期天数", "备注")


def due_list_xlsx(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """到期与逾期事项: one row per case. A provisional due date reads “（暂定）” after the date and says why in
    备注, so a sheet passed on keeps the warning with the date."""
    out = []
    for no, r in enumerate(rows, 1):
        due = cn_date(local_date(r["due_at"]))
        out.append([no, r["number"], r["title"], r["workflow"], r["state"], r["unit"],
                    f"{due}（暂定）" if r.get("provisional_reason") else due,
                    r["days_overdue"] or "", r.get("provisional_reason") or ""])
    return workbook("到期与逾期事项", DUE_COLUMNS, out, (6, 20, 36, 14, 12, 18, 20, 10, 40))
