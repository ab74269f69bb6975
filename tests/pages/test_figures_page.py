"""The scorecards page shows the task force's declared figures to the office, by unit name."""

from __future__ import annotations

import re

from engine.actors import Actor
from engine.cases import Cases
from tests.api.test_figures_api import eco  # noqa: F401
from tests.pages.test_pages import sign_in

OFFICE = Actor.of("eco-office", "e_office", "office")


def test_the_office_sees_the_figures_on_the_scorecards_page(eco, client, db, clock):  # noqa: F811
    cases = Cases(db, clock)
    for county, month in (("e_a_gov", "2026-01"), ("e_a_gov", "2026-02"), ("e_c_gov", "2026-01")):
        cases.start(task_force="eco", workflow="monitoring", actor=OFFICE, title=f"{county} {month}",
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
