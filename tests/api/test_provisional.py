"""A due date computed for a year whose holiday schedule is not yet published is 暂定, and says why,
wherever it is shown: the API, the due list as Excel, the calendar feed."""

from __future__ import annotations

import io

from icalendar import Calendar
from openpyxl import load_workbook

from tests.conftest import local

WHY = "暂定：2027年节假日安排尚未公布，按周末推算"


def test_a_provisional_due_date_is_marked_with_why_in_the_api_excel_and_feed(api, clock):
    clock.set(local(2026, 12, 24, 10))
    # Thu 24 Dec: 3 working days are 25, 28 and 29 December, all in 2026, whose schedule is published.
    settled = api.referral("gy_sthjj", "gy_qz_gov", title="年内移送的问题")
    clock.set(local(2026, 12, 30, 10))
    # Wed 30 Dec: 3 working days are Thu 31 Dec, then 1 and 4 Jan 2027 on weekends alone: a guess.
    case = api.referral("gy_sthjj", "gy_qz_gov", title="跨年移送的问题")
    assert case["due_at"] and case["due_provisional"] is True and case["due_provisional_reason"] == WHY
    read = api.get("office", f"/cases/{case['id']}").json()
    acceptance = next(d for d in read["deadlines"] if d["name"] == "acceptance")
    assert (acceptance["provisional"], acceptance["provisional_reason"]) == (True, WHY)
    assert acceptance["due_at"].startswith("2027-01-04T15:59:59")  # the end of 4 January, Beijing time
    plain = api.get("office", f"/cases/{settled['id']}").json()
    assert plain["due_provisional"] is False and plain["due_provisional_reason"] is None
    assert not any(d["provisional"] for d in plain["deadlines"])

    listed = {c["id"]: c for c in api.get("office", "/cases", workflow="referral").json()["items"]}
    assert listed[case["id"]]["due_provisional_reason"] == WHY and not listed[settled["id"]]["due_provisional"]

    due = {i["case_id"]: i for i in api.get("office", "/due", as_of="2027-01-10").json()}
    assert (due[case["id"]]["provisional"], due[case["id"]]["provisional_reason"]) == (True, WHY)
    assert (due[settled["id"]]["provisional"], due[settled["id"]]["provisional_reason"]) == (False, None)

    sheet = api.get("office", "/due.xlsx", as_of="2027-01-10")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxml")
    ws = load_workbook(io.BytesIO(sheet.content)).active
    header = [c.value for c in ws[1]]
    rows = {r[header.index("事项")]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["跨年移送的问题"][header.index("到期日")] == "2027年1月4日（暂定）"
    assert rows["跨年移送的问题"][header.index("备注")] == WHY
    assert rows["年内移送的问题"][header.index("到期日")] == "2026年12月29日"
    assert rows["年内移送的问题"][header.index("备注")] in ("", None)
    assert rows["跨年移送的问题"][header.index("承办单位")] == "清镇市政府"

    events = {str(e.get("uid")): e for e in Calendar.from_ical(api.get("office", "/calendar.ics").content)
              .walk("VEVENT")}
    marked, clean = events[f"case-{case['id']}@gongzhi"], events[f"case-{settled['id']}@gongzhi"]
    assert str(marked.get("summary")) == "跨年移送的问题（暂定）" and WHY in str(marked.get("description"))
    assert str(clean.get("summary")) == "年内移送的问题" and "暂定" not in str(clean.get("description"))
