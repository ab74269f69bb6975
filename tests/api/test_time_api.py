"""Due and overdue views, scorecards, the iCalendar feed, links and documents over HTTP, as each sees them."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from documents.outbox import process_pending
from engine.cases import Cases
from engine.timers import run_due


def test_overdue_views_scorecards_and_calendar(api, db, clock):
    case = api.referral("gy_sthjj", "gy_qz_gov", title="清镇市红枫湖沿岸垃圾", due="2026-03-31")
    other = api.referral("as_sthjj", "as_pb_gov", title="平坝区养殖废水", due="2026-03-31")
    assert api.get("office", "/due", overdue=True).json() == []
    # Nobody signs for either: 3 working days pass (Mon 2 March → end of Thu 5 March), then 4 more days.
    clock.advance(timedelta(days=7))
    office = api.get("office", "/due", overdue=True).json()
    assert {(i["case_id"], i["unit"]) for i in office} == {(case["id"], "gy_qz_gov"), (other["id"], "as_pb_gov")}
    assert all(i["overdue"] and i["days_overdue"] == 4 for i in office)
    mine = api.get("gy_qz_gov", "/due", overdue=True).json()
    assert [i["case_id"] for i in mine] == [case["id"]]
    assert api.get("as_sthjj", "/due", overdue=True, jurisdiction="gy").json() == []
    assert [i["case_id"] for i in api.get("office", "/due", overdue=True, jurisdiction="as").json()] == [other["id"]]
    assert api.get("office", "/due", as_of="3000-01-01").status_code == 422

    ticker = Cases(db, clock)
    assert run_due(ticker).ladders_opened == 2
    links = api.get("office", f"/cases/{case['id']}/links").json()
    assert [(link["direction"], link["kind"]) for link in links] == [("to", "supervision")]
    assert api.get("gy_qz_gov", f"/cases/{case['id']}/links").json()[0]["number"].startswith("督办-")
    assert api.get("as_sthjj", f"/cases/{case['id']}/links").status_code == 404

    cards = {c["unit"]: c for c in api.get("office", "/scorecards", year=2026).json()}
    assert cards["gy_qz_gov"]["open_overdue"] == 1 and cards["as_pb_gov"]["open_overdue"] == 1
    assert [c["unit"] for c in api.get("gy_qz_gov", "/scorecards").json()] == ["gy_qz_gov"]

    r = api.get("office", "/calendar.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    summaries = {str(e.get("summary")) for e in Calendar.from_ical(r.content).walk("VEVENT")}
    assert {"清镇市红枫湖沿岸垃圾", "平坝区养殖废水"} <= summaries
    own = Calendar.from_ical(api.get("gy_qz_gov", "/calendar.ics", unit="as_pb_gov").content)
    assert {str(e.get("summary")) for e in own.walk("VEVENT")} == {"清镇市红枫湖沿岸垃圾"}


def test_documents_listed_and_downloaded_byte_for_byte(api, db, clock):
    case = api.referral("gy_sthjj", "gy_qz_gov", title="清镇市红枫湖沿岸垃圾", due="2026-03-31")
    assert api.get("gy_sthjj", f"/cases/{case['id']}/documents").json() == []
    process_pending(db, clock, 10)
    (doc,) = api.get("gy_sthjj", f"/cases/{case['id']}/documents").json()
    assert doc["kind"] == "referral_letter" and doc["number"].startswith("两湖专班办")
    r = api.get("gy_qz_gov", f"/cases/{case['id']}/documents/{doc['id']}")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["etag"] == f'"{doc["sha256"]}"' and len(r.content) == doc["size"]
    again = api.get("office", f"/cases/{case['id']}/documents/{doc['id']}")
    assert again.content == r.content
    assert api.get("as_sthjj", f"/cases/{case['id']}/documents/{doc['id']}").status_code == 404
    assert api.get("gy_sthjj", f"/cases/{case['id']}/documents/999999").status_code == 404
