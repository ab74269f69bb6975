"""The scorecards page shows the task force's declared figures to the office, by unit name."""

from __future__ import annotations

import re

from engine.actors import Actor
from engine.cases import Cases
from tests import tx
from tests.api.test_figures_api import eco  # noqa: F401
from tests.pages.test_pages import sign_in

OFFICE = Actor.of("eco-office", "e_office", "office")


def test_the_office_sees_the_figures_on_the_scorecards_page(eco, client, db, clock):  # noqa: F811
    cases = Cases(db, clock)
    for county, month in (("e_a_gov", "2026-01"), ("e_a_gov", "2026-02"), ("e_c_gov", "2026-01")):
        tx.start(cases, task_force="eco", workflow="monitoring", actor=OFFICE, title=f"{county} {month}",
                 parties={"county": [county]}, payload={"month": month, "score": 80})
    sign_in(client, "eco_office")
    html = client.get("/office/scorecards?year=2026").text
    table = re.search(r'data-testid="figures".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = [[re.sub(r"<[^>]+>", "", c.replace("<br>", "|")).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    assert rows == [["待确认的月度考核（全专班）", "3件"], ["各县待确认", "甲县人民政府：2件|丙县人民政府：1件"]]

    client.cookies.clear()
    sign_in(client, "eco_a")
    assert 'data-testid="figures"' not in client.get("/office/scorecards?year=2026").text


def _figure_rows(html: str) -> list[list[str]]:
    table = re.search(r'data-testid="figures".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", c.replace("<br>", "|")).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_the_settlement_page_shows_its_figures(eco, client, db, clock):  # noqa: F811
    cases = Cases(db, clock)
    for county, score in (("e_a_gov", 90), ("e_b_gov", 60)):
        c = tx.start(cases, task_force="eco", workflow="monitoring", actor=OFFICE, title=county,
                     parties={"county": [county]}, payload={"month": "2026-01", "score": score, "met": True})
        tx.fire(cases, c, "confirm", OFFICE)
    settlement = tx.start(cases, task_force="eco", workflow="settlement", actor=OFFICE, title="2026年度清算",
                          payload={"year": 2026, "fund": 1000.01})
    sign_in(client, "eco_office")
    rows = dict((title, value) for title, value in _figure_rows(client.get(f"/case/{settlement.id}").text))
    # 1000.01 元 by 90:60: 600.006 and 400.004 → 600.00 and 400.00, the fen left to 甲县 (remainder 0.6).
    assert rows["各县分配资金"] == "甲县人民政府：600.01元|乙县人民政府：400元"
    assert rows["已确认月度考核"] == "2件" and rows["达标率"] == "100%"
    # A monthly result declares no figures: its page has no such table.
    c = tx.start(cases, task_force="eco", workflow="monitoring", actor=OFFICE, title="x", parties={"county": ["e_c_gov"]},
                 payload={"month": "2026-02", "score": 1})
    assert 'data-testid="figures"' not in client.get(f"/case/{c.id}").text
