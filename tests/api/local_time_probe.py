"""Run as a script by test_local_time.py, in a process whose TZ the test chooses.

Builds the app over a fresh database (the URL is the first argument), has the office schedule a meeting at
09:30 written as people write it (no zone: Beijing time), renders its notice, and prints as JSON what the
office calendar page, the case page, the iCalendar feed and the notice PDF say of that meeting.
"""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.accounts import Accounts, hasher
from api.app import create_app
from api.demo import create_demo_accounts
from db.repositories import accounts as accounts_repo
from db.session import Database
from db.settings import Settings
from documents.outbox import process_pending
from engine.bootstrap import init_database
from engine.clock import FixedClock
from workflows import ROOT

PASSWORD = "correct horse battery"
MEETING_AT = "2026-03-12T09:30"  # as typed, without a zone


def main(url: str, data_dir: Path) -> dict:
    db = Database(url)
    clock = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), step=timedelta(seconds=1))
    init_database(db, ROOT)
    service = Accounts(hasher("cheapest"), timedelta(hours=12))
    for demo in create_demo_accounts(db, service, ROOT, clock):
        with db.write() as conn:
            account, _ = accounts_repo.by_username(conn, demo.username)
            accounts_repo.set_password_hash(conn, account.id, service.passwords.hash(PASSWORD))
    settings = Settings(environment="test", data_dir=data_dir, password_profile="cheapest", log_level="WARNING",
                        token_ttl_hours=24 * 30)
    client = TestClient(create_app(settings, db, clock))

    def bearer(username: str) -> dict[str, str]:
        r = client.post("/auth/token", data={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    office, member, convenor = bearer("office"), bearer("gy_sthjj"), bearer("convenor")

    def fire(who: dict[str, str], case_id: int, event: str, payload: dict) -> dict:
        r = client.post(f"/cases/{case_id}/events", headers=who, json={"event": event, "payload": payload})
        assert r.status_code == 200, r.text
        return r.json()

    r = client.post("/cases", headers=office, json={
        "workflow": "meeting", "title": "两湖临时联席会议", "parties": {"organiser": ["two_lakes_office"]},
        "payload": {"kind": "ad_hoc", "due": "2026-03-31"}})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    fire(member, case_id, "propose_item", {"item": "一季度工作通报", "owner": "gy_sthjj"})
    fire(convenor, case_id, "approve_agenda", {})
    case = fire(office, case_id, "issue_notice", {"meeting_name": "两湖临时联席会议", "meeting_at": MEETING_AT,
                                                  "venue": "贵阳市水务局三楼会议室"})
    process_pending(db, clock, 10)
    (doc,) = [d for d in client.get(f"/cases/{case_id}/documents", headers=office).json()
              if d["kind"] == "meeting_notice"]
    pdf = client.get(f"/cases/{case_id}/documents/{doc['id']}", headers=office).content
    notice = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    feed = client.get("/calendar.ics", headers=office).text

    token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "office", "password": PASSWORD, "next": "/", "login_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    calendar_page = client.get("/office/calendar?month=2026-03").text
    case_page = client.get(f"/case/{case_id}").text
    db.dispose()
    return {"stored": case["data"]["meeting_at"], "notice": notice, "feed": feed,
            "calendar_page": calendar_page, "case_page": case_page, "case_id": case_id}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2])), ensure_ascii=False))
