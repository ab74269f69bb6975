"""The office's lists show every case in scope (none dropped past a fixed number), and the overdue,
ladder and scorecard pages download as Excel holding exactly the rows each page shows."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook

from api.accounts import Accounts, hasher
from db.repositories import accounts as accounts_repo
from documents.excel import LOOKBACK_COLUMNS
from engine.actors import Actor
from engine.cases import Cases
from tests import tx
from tests.pages.conftest import PASSWORD
from tests.pages.test_pages import sign_in

OFFICE = Actor.of("office-bulk", "two_lakes_office", "office")
MANY = 205  # past the 200 the calendar used to read


def test_the_calendar_shows_every_meeting_due_in_the_month(client, db, clock):
    cases = Cases(db, clock)
    with db.write() as conn:
        for i in range(MANY):
            cases.start(conn, task_force="two_lakes", workflow="meeting", actor=OFFICE, title=f"临时会议{i}",
                        payload={"kind": "ad_hoc", "due": "2026-03-20"},
                        parties={"organiser": ["two_lakes_office"]})
    sign_in(client, "office")
    html = client.get("/office/calendar?month=2026-03").text
    grid = re.search(r'data-testid="calendar">(.*?)</div>\s*<p class="muted">', html, re.S).group(1)
    titles = re.findall(r'<a href="/case/\d+"[^>]*>(临时会议\d+)', grid)
    assert sorted(titles) == sorted(f"临时会议{i}" for i in range(MANY))


def _table(html: str, testid: str) -> list[list[str]]:
    """The body rows of a page's table, each cell's text split where the page breaks a line."""
    body = re.search(rf'data-testid="{testid}"[^>]*>.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        if "colspan" in tr:
            continue  # the “nothing to list” line
        cells = []
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S):
            cells += [t.strip() for t in re.sub(r"<[^>]+>", "", cell.replace("<br>", "\n")).split("\n")]
        rows.append(cells)
    return rows


def _sheets(client, path: str) -> dict[str, list[list[str]]]:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), r.text
    book = load_workbook(io.BytesIO(r.content))
    return {ws.title: [["" if c.value is None else str(c.value) for c in row] for row in ws.iter_rows()]
            for ws in book.worksheets}


def test_the_overdue_ladder_and_scorecard_sheets_hold_the_rows_each_page_shows(client, api, clock):
    api.referral("gy_sthjj", "gy_qz_gov")  # to be accepted within 3 working days
    card = api.create("office", "督办：清镇市政府逾期未签收", workflow="supervision",
                      parties={"supervised": ["gy_qz_gov"]}, payload={"item": "移送事项签收"})
    api.ok("office", card["id"], "yellow")
    clock.advance(timedelta(days=10))
    sign_in(client, "office")

    overdue = client.get("/office/overdue").text
    assert 'href="/office/overdue.xlsx"' in overdue and "导出 Excel" in overdue
    sheets = _sheets(client, "/office/overdue.xlsx")
    assert list(sheets) == ["按责任单位", "按地区"]
    assert sheets["按责任单位"][0] == ["单位", "件数"] and sheets["按地区"][0] == ["地区", "件数"]
    for title, testid in (("按责任单位", "by-unit"), ("按地区", "by-place")):
        shown = [row[:2] for row in _table(overdue, testid)]
        assert shown and sheets[title][1:] == shown

    ladder = client.get("/office/ladder").text
    assert 'href="/office/ladder.xlsx"' in ladder
    (sheet,) = _sheets(client, "/office/ladder.xlsx").values()
    assert sheet[0] == ["督办等级", "被督办单位", "督办事项", "编号", "状态"]
    shown = _table(ladder, "ladder")
    assert shown and sheet[1:] == shown and shown[0][:2] == ["黄牌", "清镇市政府"]

    cards = client.get("/office/scorecards?year=2026").text
    assert 'href="/office/scorecards.xlsx?year=2026"' in cards
    # The score formula reads in words: the rules' own names stand for the codes of figures.yaml.
    assert "得分 = 取大(0, 基础分 − 扣分合计 + 取小(加分合计, 5))" in cards and "deductions" not in cards
    sheets = _sheets(client, "/office/scorecards.xlsx?year=2026")
    assert list(sheets) == ["2026年度履职情况", "考核得分", "扣分加分明细"]
    sheet = sheets["2026年度履职情况"]
    assert sheet[0] == ["单位", "按期完成", "逾期完成或未完成", "按期率", "当前逾期", "黄牌", "红牌"]
    shown = _table(cards, "scorecards")
    assert shown and sheet[1:] == shown
    qz = next(r for r in shown if r[0] == "清镇市政府")
    assert qz[-2:] == ["1", "0"]  # one yellow card, no red
    assert qz[4] == "1"  # 当前逾期: the referral not signed for within 3 working days, overdue now

    # The points: each rule's count and points as the page shows them, and every case behind a count.
    points = _table(cards, "assessment")
    titles = [r[0] for r in _table(cards, "rules")]
    assert titles[:3] == ["逾期办结或未办结", "未按期报送", "黄牌督办"]
    assert sheets["考核得分"][0] == ["单位", *(f"{t}（件）" for t in titles), *(f"{t}（分）" for t in titles),
                                  "扣分", "加分", "得分"]
    n = len(titles)
    shown_points = [[r[0], *(c.removesuffix("件") for c in r[1:2 * n + 1:2]),
                     *(c.removesuffix("分") for c in r[2:2 * n + 1:2]), *r[-3:]] for r in points]
    assert shown_points and shown_points == sheets["考核得分"][1:]
    qz_points = next(r for r in points if r[0] == "清镇市政府")
    assert qz_points[5:7] == ["1件", "−2分"]  # the yellow card: 2 points
    detail_link = re.search(r'<a href="(/office/scorecards/gy_qz_gov\?year=2026#rule-yellow)">1件</a>', cards)
    assert detail_link
    detail = client.get(detail_link.group(1).split("#")[0]).text
    behind = _table(detail, "behind-yellow")
    assert [r[1] for r in behind] == ["督办：清镇市政府逾期未签收"]
    assert f'<a href="/case/{card["id"]}">' in detail
    assert ["清镇市政府", "黄牌督办", "扣分", behind[0][0], "督办：清镇市政府逾期未签收", behind[0][2]] in \
        sheets["扣分加分明细"][1:]


def test_a_lookback_campaign_downloads_its_table_and_other_cases_offer_none(client, api, db, clock):
    with db.write() as conn:
        if not accounts_repo.username_taken(conn, "cc_office_page"):
            Accounts(hasher("cheapest"), timedelta(hours=12)).create_user(
                conn, username="cc_office_page", display_name="区政府办公室", unit="cc_office",
                task_force="chongchuan", roles=["office"], password=PASSWORD, now=clock.now())
    cases = Cases(db, clock)
    campaign = tx.start(cases, task_force="chongchuan", workflow="lookback", actor=Actor.of("cc-o", "cc_office", "office"),
                        title="狼山镇街道“回头看”", parties={"street": ["cc_lsz_jd"], "filed_with": ["cc_hbj"]},
                        payload={"due": "2026-11-30", "problems": [
                               {"text": "一级保护区内违法网箱养殖，已拆除", "location": "江苏省南通市崇川区",
                                "source": "狼山水厂长江水源地"}]})
    tx.fire(cases, campaign.id, "record_lookback", Actor.of("cc-l", "cc_lsz_jd", "member"),
            {"problem_no": 1, "finding": "未见网箱复养", "done": True})
    sign_in(client, "cc_office_page")
    assert f'href="/case/{campaign.id}/lookback.xlsx"' in client.get(f"/case/{campaign.id}").text
    r = client.get(f"/case/{campaign.id}/lookback.xlsx")
    assert r.status_code == 200
    rows = [list(row) for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)]
    assert tuple(rows[0]) == LOOKBACK_COLUMNS
    assert rows[1:] == [[1, "江苏省南通市崇川区", "狼山水厂长江水源地", "一级保护区内违法网箱养殖，已拆除", "未见网箱复养", "是", None]]

    referral = api.referral("gy_sthjj", "gy_qz_gov")
    assert client.get(f"/case/{referral['id']}/lookback.xlsx").status_code == 404  # not this office's to see
    sign_in(client, "gy_sthjj")
    assert "lookback.xlsx" not in client.get(f"/case/{referral['id']}").text
    assert client.get(f"/case/{referral['id']}/lookback.xlsx").status_code == 404  # no such table
