"""The office's lists show every case in scope (none dropped past a fixed number), and the overdue,
ladder and scorecard pages download as Excel holding exactly the rows each page shows."""

from __future__ import annotations

import re

from engine.actors import Actor
from engine.cases import Cases
from tests.pages.test_pages import sign_in

OFFICE = Actor.of("office-bulk", "two_lakes_office", "office")
MANY = 205  # past the 200 the calendar used to read


def test_the_calendar_shows_every_meeting_due_in_the_month(client, db, clock):
    cases = Cases(db, clock)
    with db.write() as conn:
        for i in range(MANY):
            cases.start_in(conn, task_force="two_lakes", workflow="meeting", actor=OFFICE, title=f"临时会议{i}",
                           payload={"kind": "ad_hoc", "due": "2026-03-20"})
    sign_in(client, "office")
    html = client.get("/office/calendar?month=2026-03").text
    grid = re.search(r'data-testid="calendar">(.*?)</div>\s*<p class="muted">', html, re.S).group(1)
    titles = re.findall(r'<a href="/case/\d+"[^>]*>(临时会议\d+)', grid)
    assert sorted(titles) == sorted(f"临时会议{i}" for i in range(MANY))
