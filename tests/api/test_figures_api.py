"""Figures over HTTP: the task force's own (office only), a case's, and a duplicate refused with 409."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.accounts import Accounts, hasher
from db.repositories import accounts as accounts_repo
from engine.clock import FixedClock
from engine.publishing import load_task_force
from tests.api.conftest import PASSWORD
from tests.conftest import FIXTURES


@pytest.fixture
def eco(db, accounts):
    start = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    service = Accounts(hasher("cheapest"), timedelta(hours=12))
    with db.write() as conn:
        load_task_force(conn, FIXTURES / "eco_fund", start)
        for username, unit, roles in (("eco_office", "e_office", ["office"]), ("eco_a", "e_a_gov", ["member"])):
            if not accounts_repo.username_taken(conn, username):
                service.create_user(conn, username=username, display_name=username, unit=unit, task_force="eco",
                                    roles=roles, password=PASSWORD, now=start.now())


def test_figures_and_a_duplicate_month_over_http(eco, client, login):
    office = login("eco_office")

    def month(county: str, m: str, score: float):
        return client.post("/cases", headers=office, json={
            "workflow": "monitoring", "title": f"{county} {m}", "parties": {"county": [county]},
            "payload": {"month": m, "score": score, "met": True}})

    first = month("e_a_gov", "2026-01", 90)
    assert first.status_code == 201, first.text
    assert month("e_b_gov", "2026-01", 60).status_code == 201
    again = month("e_a_gov", "2026-01", 99)
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "duplicate_case" and body["details"]["existing"] == first.json()["number"]
    assert body["message_zh"].startswith(f"已有案件 {first.json()['number']}") and "不能重复创建" in body["message_zh"]
    assert "already exists" in body["message_en"]

    r = client.get("/figures", headers=office)
    assert r.status_code == 200
    assert r.json() == [{"name": "open_reports", "title": "待确认的月度考核（全专班）", "unit": "件", "value": 2},
                        {"name": "open_by_county", "title": "各县待确认", "unit": "件",
                         "value": {"e_a_gov": 1, "e_b_gov": 1}}]
    assert client.get("/figures", headers=login("eco_a")).status_code == 403

    for case in client.get("/cases", headers=office, params={"workflow": "monitoring"}).json()["items"]:
        assert client.post(f"/cases/{case['id']}/events", headers=office,
                           json={"event": "confirm", "payload": {}}).status_code == 200
    settlement = client.post("/cases", headers=office, json={
        "workflow": "settlement", "title": "2026年度清算", "payload": {"year": 2026, "fund": 100}}).json()
    figures = {f["name"]: f["value"] for f in
               client.get(f"/cases/{settlement['id']}/figures", headers=office).json()}
    # 90 and 60 points: 100 元 by 90:60 is 60 and 40 exactly.
    assert figures["year_scores"] == {"e_a_gov": 90, "e_b_gov": 60}
    assert figures["shares"] == {"e_a_gov": 60, "e_b_gov": 40}
    assert figures["months_confirmed"] == 2 and figures["mean_score"] == 75
    # A unit that is no party of the settlement does not see it.
    assert client.get(f"/cases/{settlement['id']}/figures", headers=login("eco_a")).status_code == 404
