"""我的待办 paged and sorted with 新到 since the last sitting; 综合查询 by my unit's role; the office's
exports hold exactly what their pages show; the calendar's subscription feed; nothing cut short at
10,000 cases."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import insert, select

from db.models import Case, CaseParty, Definition
from tests.pages.test_pages import sign_in


def _work(html: str) -> list[str]:
    body = re.search(r'data-testid="my-work">(.*?)</table>', html, re.S)
    return re.findall(r'<span class="muted">([^<]+-\d{4}-\d{4})</span>', body.group(1)) if body else []


def _sheet(response, index: int = 0) -> list[list]:
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    return [[c.value for c in row] for row in book.worksheets[index].iter_rows()]


def test_my_work_sorts_pages_and_marks_what_is_new_since_my_last_sitting(client, api, clock):
    made = [api.referral("gy_sthjj", "gy_qz_gov", title=f"待签收事项{i}") for i in range(3)]
    sign_in(client, "gy_qz_gov")
    first = client.get("/").text
    assert set(_work(first)) == {c["number"] for c in made} and "新到" not in first  # a first visit marks nothing
    assert "签收" in first and "共 3 件" in first
    by_arrival = client.get("/", params={"sort": "received"}).text
    assert _work(by_arrival) == [c["number"] for c in reversed(made)]  # the newest arrival first
    clock.advance(timedelta(hours=2))  # a later sitting: what changed since the last one is 新到
    api.ok("gy_qz_gov", made[1]["id"], "accept")
    later = api.referral("gy_sthjj", "gy_qz_gov", title="新到的事项")
    page = client.get("/").text
    fresh = re.findall(r'data-testid="fresh">新到</span> <a href="/case/(\d+)"', page)
    assert set(map(int, fresh)) == {made[1]["id"], later["id"]} and "新到 2" in page
    assert "开始办理" in page  # each line says what is to be done
    assert client.get("/", params={"sort": "bogus"}).status_code == 422


def test_search_by_my_units_role(client, api):
    mine = api.referral("gy_sthjj", "gy_qz_gov", title="我移送的事项")
    theirs = api.referral("gy_qz_gov", "gy_sthjj", title="移送给我的事项")
    sign_in(client, "gy_sthjj")
    listed = client.get("/search", params={"mine": "receiver", "sort": "number"}).text
    assert theirs["number"] in listed and mine["number"] not in listed and "本单位角色" in listed
    assert client.get("/search.xlsx", params={"mine": "referrer"}).status_code == 200
    sheet = _sheet(client.get("/search.xlsx", params={"mine": "referrer"}))
    assert [r[0] for r in sheet[1:]] == [mine["number"]]


def test_office_exports_hold_the_rows_their_pages_show(client, api, clock):
    for i in range(2):
        api.referral("gy_sthjj", "gy_qz_gov", title=f"逾期事项{i}")
    clock.advance(timedelta(days=40))
    sign_in(client, "office")
    page = client.get("/office/overdue").text
    shown = re.findall(r"<tr><td>([^<]+)</td><td[^>]*>(\d+)</td>", page)
    sheet = _sheet(client.get("/office/overdue.xlsx"))
    assert sheet[0] == ["单位", "件数"] and [(r[0], str(r[1])) for r in sheet[1:]] == shown[:len(sheet) - 1]
    assert _sheet(client.get("/office/overdue.xlsx"), 1)[0] == ["地区", "件数"]
    ladder = _sheet(client.get("/office/ladder.xlsx"))
    assert ladder[0][:3] == ["督办等级", "被督办单位", "督办事项"]
    assert len(ladder) - 1 == client.get("/office/ladder").text.count('<tr><td><span class="badge')
    cards = _sheet(client.get("/office/scorecards.xlsx", params={"year": 2026}))
    rows = re.findall(r"<tr><td>([^<]+)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>", client.get("/office/scorecards").text)
    assert [(r[0], str(r[1]), str(r[2])) for r in cards[1:]] == rows
    assert client.get("/office/ledgers").status_code == 200 and "台账" in client.get("/office/ladder").text


def test_the_lookback_ledger_downloads_from_the_office_pages(client, db, clock, accounts):
    from api.accounts import Accounts, hasher
    from db.repositories import accounts as accounts_repo
    from engine.access import CaseAccess, Viewer
    from engine.cases import Cases
    from tests.pages.conftest import PASSWORD

    with db.write() as conn:
        if not accounts_repo.username_taken(conn, "cc_office"):
            Accounts(hasher("cheapest"), timedelta(hours=1)).create_user(
                conn, username="cc_office", display_name="崇川区政府办公室", unit="cc_office", task_force="chongchuan",
                roles=["office"], password=PASSWORD, now=clock.now())
    office = CaseAccess(Cases(db, clock), Viewer("user:cc", "区政府办公室", "cc_office", "chongchuan",
                                                 frozenset({"office"}), office=True))
    with db.write() as conn:
        case = office.start(conn, workflow="lookback", title="狼山镇街道“回头看”", parties={"street": ["cc_lsz_jd"]},
                            payload={"due": "2018-11-22", "problems": [
                                   {"text": "二级保护区内违法网箱养殖", "location": "狼山镇街道", "source": "狼山水厂"}]})
    sign_in(client, "cc_office")
    ledgers = client.get("/office/ledgers").text
    link = f"/case/{case.id}/lookback.xlsx"
    assert link in ledgers and 'href="/office/ledgers"' in ledgers  # in the office's nav
    rows = _sheet(client.get(link))
    assert rows[0] == ["问题序号", "所在地", "水源地名称", "已整改问题具体情况", "“回头看”情况", "是否完成整治", "备注"]
    assert rows[1][:4] == [1, "狼山镇街道", "狼山水厂", "二级保护区内违法网箱养殖"]
    assert client.get("/case/999999/lookback.xlsx").status_code == 404


def test_a_calendar_feed_to_subscribe_to_is_per_account_and_revocable(client, api):
    api.referral("gy_sthjj", "gy_qz_gov", title="订阅里的期限")
    csrf = sign_in(client, "gy_qz_gov")
    made = client.post("/calendar/feed", data={"csrf_token": csrf})
    url = re.search(r'value="(http[^"]+\.ics)" data-testid="feed-url"', made.text).group(1)
    client.cookies.clear()  # a calendar program has no session
    feed = client.get(url)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert "订阅里的期限" in feed.content.decode()
    csrf = sign_in(client, "gy_qz_gov")
    assert "已开通日历订阅" in client.get("/office/calendar").text
    client.post("/calendar/feed/revoke", data={"csrf_token": csrf})
    client.cookies.clear()
    assert client.get(url).status_code == 404
    assert client.get("/calendar/feed/gzc_guessed.ics").status_code == 404


def test_november_shows_every_item_due_at_ten_thousand_cases(client, db):
    with db.read() as conn:
        definition = conn.execute(select(Definition.id).where(Definition.name == "referral")
                                  .order_by(Definition.version.desc())).scalars().first()
    rows, parties = [], []
    for i in range(1, 10_001):
        november = i % 40 == 0  # 250 due in November, the rest spread over the other months
        month = 11 if november else 1 + i % 10
        due = datetime(2026, month, 1 + i % 28, 8, tzinfo=UTC)
        rows.append({"id": 900_000 + i, "number": f"批量-2026-{i:05d}", "task_force_code": "two_lakes",
                     "definition_id": definition, "state": "in_progress", "version": 1, "closed": False,
                     "title": f"批量事项{i}", "description": "", "data": {},
                     "parties": {"receiver": ["gy_qz_gov"]}, "head_hash": "0" * 64,
                     "created_at": due - timedelta(days=30), "updated_at": due - timedelta(days=30),
                     "state_entered_at": due - timedelta(days=30), "due_at": due, "due_role": "receiver",
                     "due_unit": "gy_qz_gov"})
        parties.append({"case_id": 900_000 + i, "role": "receiver", "unit_code": "gy_qz_gov"})
    with db.write() as conn:
        conn.execute(insert(Case.__table__), rows)
        conn.execute(insert(CaseParty.__table__), parties)
    sign_in(client, "office")
    page = client.get("/office/calendar", params={"month": "2026-11"}).text
    assert len(set(re.findall(r'href="/case/(9\d{5})"', page))) == 250
