"""The problem list and the “回头看” table of seed 002 as .xlsx."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from documents import excel, records
from tests import tx
from tests.documents import scenarios


def sheet(data: bytes):
    book = load_workbook(io.BytesIO(data))
    assert len(book.worksheets) == 1
    return book.active


def test_lookback_table_has_exactly_the_seed_columns(db, cases):
    case = scenarios.rectification(cases, problems=3)
    case = tx.fire(cases, case, "lookback", scenarios.OFFICE, {"problem_no": 2, "finding": "管网已接通", "done": True})
    with db.read() as conn:
        ws = sheet(excel.lookback_xlsx(records.load(conn, case.id)))
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    # Seed 002: 问题序号, 所在地, 水源地名称, 已整改问题具体情况, “回头看”情况, 是否完成整治, 备注 — in this order.
    assert rows[0] == ["问题序号", "所在地", "水源地名称", "已整改问题具体情况", "“回头看”情况", "是否完成整治", "备注"]
    assert rows[1] == [1, "甲市清水县", "红枫湖饮用水水源地",
                       "第1号点位二级保护区内存在生活污水直排口1处；整改措施：封堵排污口，污水接入市政管网",
                       "排污口已封堵，未发现反弹", "是", None]
    # The latest look-back of a problem counts.
    assert rows[2][3:] == ["第2号点位二级保护区内存在生活污水直排口2处；整改措施：封堵排污口，污水接入市政管网",
                           "管网已接通", "是", None]
    assert rows[3][0] == 3 and rows[3][4:] == [None, None, None]
    assert len(rows) == 4 and ws.max_column == 7
    assert ws.merged_cells.ranges == set() and ws.freeze_panes == "A2"


def test_problem_list_has_the_columns_of_its_pdf(db, cases):
    case = scenarios.rectification(cases, problems=2)
    with db.read() as conn:
        ws = sheet(excel.problem_list_xlsx(records.load(conn, case.id)))
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == ["序号", "所在地", "水源地名称", "问题描述", "整改措施", "责任单位", "配合单位", "整改时限"]
    assert rows[2] == [2, "乙市西山区", "百花湖饮用水水源地", "第2号点位二级保护区内存在生活污水直排口2处。",
                       "封堵排污口，污水接入市政管网。", "西山区政府", "甲市生态环境局", "2026年6月30日"]
