"""Work that belongs to no one cannot be created: a deadline owed by a party role that holds no unit is
refused with the case's opening (API and page), naming the missing party; nothing is stored."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Case
from tests.pages.test_pages import sign_in

MEETING = {"workflow": "meeting", "title": "临时联席会议", "payload": {"kind": "ad_hoc", "due": "2026-04-30"}}


def _count(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(Case)).scalar_one()


def test_a_meeting_nobody_organises_is_refused_and_names_the_organiser(client, login, db):
    r = client.post("/cases", headers=login("office"), json=MEETING)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "deadline_owner_missing" and body["details"]["role"] == "organiser"
    assert body["details"]["field"] == "parties.organiser" and "承办单位" in body["message_zh"]
    assert "按期召开" in body["message_zh"] and _count(db) == 0
    ok = client.post("/cases", headers=login("office"), json={**MEETING, "parties": {"organiser": ["two_lakes_office"]}})
    assert ok.status_code == 201 and _count(db) == 1


def test_the_new_case_page_says_who_is_missing(client, db):
    csrf = sign_in(client, "office")
    r = client.post("/new/meeting", data={"csrf_token": csrf, "title": "临时联席会议", "kind": "ad_hoc",
                                          "due": "2026-04-30", "party_role": "organiser", "party_unit": ""})
    assert r.status_code == 422 and "本案件未指定承办单位" in r.text and _count(db) == 0
