"""暂定 on the pages: the case page's deadlines, 我的待办 and the office calendar say which due dates
wait for next year's holiday schedule, and why."""

from __future__ import annotations

import re

from tests.conftest import local
from tests.pages.test_pages import sign_in

BECAUSE = "2027年节假日安排尚未公布，按周末推算"
WHY = f"暂定：{BECAUSE}"
BADGE = re.compile(r'<span class="badge yellow" data-testid="[a-z-]*provisional"[^>]*>暂定</span> '
                   rf'<span class="muted">{BECAUSE}</span>')


def test_provisional_due_dates_are_marked_on_the_case_page_my_work_and_the_calendar(client, api, clock):
    clock.set(local(2026, 12, 24, 10))
    settled = api.referral("gy_sthjj", "gy_qz_gov", title="年内移送的问题")  # due Tue 29 December
    clock.set(local(2026, 12, 30, 10))
    case = api.referral("gy_sthjj", "gy_qz_gov", title="跨年移送的问题")  # due Mon 4 January 2027, a guess

    sign_in(client, "gy_qz_gov")
    page = client.get(f"/case/{case['id']}").text
    table = re.search(r'<table data-testid="deadlines">.*?</table>', page, re.S).group(0)
    row = next(r for r in table.split("<tr>") if "3个工作日内签收" in r)
    assert "2027年1月4日" in row and BADGE.search(row)
    assert BADGE.search(re.search(r'<dd data-testid="due">.*?</dd>', page, re.S).group(0))
    other = client.get(f"/case/{settled['id']}").text
    assert "暂定" not in other

    work = client.get("/").text
    mine = re.search(r'<table data-testid="my-work">.*?</table>', work, re.S).group(0)
    rows = {("跨年" if "跨年移送的问题" in r else "年内"): r for r in re.split(r"<tr[ >]", mine) if "移送的问题" in r}
    assert BADGE.search(rows["跨年"]) and "2027年1月4日" in rows["跨年"]
    assert "暂定" not in rows["年内"]

    client.cookies.clear()
    sign_in(client, "office")
    month = client.get("/office/calendar?month=2027-01").text
    cell = re.search(rf'<a href="/case/{case["id"]}"[^>]*>.*?</a>', month, re.S).group(0)
    assert "跨年移送的问题" in cell and "（暂定）" in cell and WHY in cell
    listed = re.search(r'<ul data-testid="provisional-list">.*?</ul>', month, re.S).group(0)
    assert "1月4日" in listed and WHY in listed
    december = client.get("/office/calendar?month=2026-12").text
    assert "年内移送的问题" in december and "provisional-list" not in december
