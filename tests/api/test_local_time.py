"""One local time: Beijing, whatever zone the server's clock is in, and a time without a zone is Beijing time.

The first test runs the app in a subprocess under TZ=UTC and TZ=America/New_York (tests/api/local_time_probe.py)
and reads a 09:30 meeting back from the office calendar page, the case page, the iCalendar feed and the
notice PDF. Before engine/localtime.py the feed said 17:30 on a UTC server and the notice 09:30.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from icalendar import Calendar
from pydantic import ValidationError

from db.settings import Settings
from engine.localtime import LOCAL_TZ

REPO = Path(__file__).resolve().parents[2]


def _probe(url: str, tz: str, data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_")}
    done = subprocess.run([sys.executable, "-m", "tests.api.local_time_probe", url, str(data_dir)], cwd=REPO,
                          env={**env, "TZ": tz}, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_pages_feed_and_notice_say_the_beijing_time_whatever_the_server_zone(backend, fresh_url, tmp_path, tz):
    seen = _probe(fresh_url(backend), tz, tmp_path)
    # Typed without a zone, recorded as Beijing time.
    assert seen["stored"] == "2026-03-12T09:30:00+08:00"

    cells = re.findall(r"<div[^>]*><strong>(\d+)</strong>(.*?)</div>", seen["calendar_page"], re.S)
    days = [int(day) for day, cell in cells if "两湖临时联席会议" in cell]
    assert days == [12]
    (cell,) = [cell for day, cell in cells if day == "12"]
    assert '<span class="time" data-testid="meeting-time">09:30</span> 两湖临时联席会议' in cell

    assert "<dt>会议时间</dt><dd>2026年3月12日 09:30</dd>" in seen["case_page"]

    feed = Calendar.from_ical(seen["feed"])
    (event,) = [e for e in feed.walk("VEVENT") if str(e.get("uid")) == f"case-{seen['case_id']}@gongzhi"]
    assert event.decoded("dtstart") == datetime(2026, 3, 12, 9, 30, tzinfo=LOCAL_TZ)
    assert "DTSTART;TZID=Asia/Shanghai:20260312T093000" in seen["feed"].splitlines()
    assert [str(z.get("tzid")) for z in feed.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert feed.get_missing_tzids() == set()

    notice = re.sub(r"\s+", "", seen["notice"])
    assert "定于2026年3月12日（星期四）上午9:30在贵阳市水务局三楼会议室" in notice


def test_a_time_without_a_zone_is_beijing_time_and_one_with_a_zone_keeps_it(api):
    def notice_at(meeting_at: str):
        case = api.create("office", "临时联席会议", workflow="meeting", parties={"organiser": ["two_lakes_office"]},
                          payload={"kind": "ad_hoc", "due": "2026-03-31"})
        api.ok("gy_sthjj", case["id"], "propose_item", {"item": "一季度工作通报", "owner": "gy_sthjj"})
        api.ok("convenor", case["id"], "approve_agenda")
        return api.fire("office", case["id"], "issue_notice", {"meeting_name": "临时联席会议", "meeting_at": meeting_at,
                                                                "venue": "会议室"})

    assert notice_at("2026-03-12T09:30").json()["data"]["meeting_at"] == "2026-03-12T09:30:00+08:00"
    assert notice_at("2026-03-12T09:30:00+08:00").json()["data"]["meeting_at"] == "2026-03-12T09:30:00+08:00"
    stored = notice_at("2026-03-12T01:30:00Z").json()["data"]["meeting_at"]
    assert datetime.fromisoformat(stored) == datetime(2026, 3, 12, 9, 30, tzinfo=LOCAL_TZ)
    refused = notice_at("0001-01-01T00:00")  # would overflow on the way to UTC: a 422, not a 500
    assert refused.status_code == 422, refused.text


def test_the_timezone_setting_is_gone_and_another_zone_is_refused_with_the_reason(monkeypatch):
    monkeypatch.setenv("GONGZHI_TIMEZONE", "Asia/Shanghai")
    assert not hasattr(Settings(), "timezone")  # what it always was: accepted, nothing to read
    monkeypatch.setenv("GONGZHI_TIMEZONE", "UTC")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "不再读取" in str(refused.value) and "no longer read" in str(refused.value)
