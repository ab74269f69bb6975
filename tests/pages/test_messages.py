"""消息 on the pages: the header counts what I have not read, the page lists it, opening one reads it."""

from __future__ import annotations

import re

from tests.pages.test_pages import sign_in


def _unread(html: str) -> int:
    found = re.search(r'data-testid="unread-count">(\d+)<', html)
    return int(found.group(1)) if found else 0


def test_a_referral_reaches_the_receivers_header_and_messages(client, api):
    csrf = sign_in(client, "gy_qz_gov")
    before = _unread(client.get("/").text)
    referral = api.referral("gy_sthjj", "gy_qz_gov", title="红枫湖沿岸垃圾堆放（消息测试）")
    home = client.get("/")
    assert _unread(home.text) == before + 1
    listing = client.get("/messages").text
    assert "收到移送问题：红枫湖沿岸垃圾堆放（消息测试）" in listing and "未读" in listing
    notice_id = int(re.search(r'href="/messages/(\d+)"><strong>收到移送问题：红枫湖沿岸垃圾堆放（消息测试）', listing).group(1))
    r = client.get(f"/messages/{notice_id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/case/{referral['id']}"
    assert _unread(client.get("/").text) == before
    case = client.get(f"/case/{referral['id']}").text
    assert 'data-testid="notices"' in case and "清镇市" in case
    # Mark all read needs the form's token.
    api.referral("gy_sthjj", "gy_qz_gov", title="第二件")
    assert client.post("/messages/read", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/messages/read", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert _unread(client.get("/").text) == 0


def test_another_units_notice_is_not_mine(client, api):
    api.referral("gy_sthjj", "gy_qz_gov", title="只通知清镇")
    mine = api.get("gy_qz_gov", "/notices").json()["items"]
    notice_id = next(i["id"] for i in mine if i["title"] == "收到移送问题：只通知清镇")
    sign_in(client, "as_pb_gov")
    assert "只通知清镇" not in client.get("/messages").text
    r = client.get(f"/messages/{notice_id}", follow_redirects=False)
    assert r.status_code == 404 and "该消息不存在" in r.text


def test_the_notices_api_lists_and_marks_read(api, login):
    referral = api.referral("gy_sthjj", "gy_qz_gov", title="接口消息")
    mine = api.get("gy_qz_gov", "/notices").json()
    assert mine["unread"] >= 1 and mine["items"][0]["title"] == "收到移送问题：接口消息"
    assert mine["items"][0]["link"] == f"/case/{referral['id']}"
    marked = api.client.post("/notices/read", json={"ids": [mine["items"][0]["id"]]}, headers=login("gy_qz_gov"))
    assert marked.status_code == 200 and marked.json() == {"marked": 1, "unread": mine["unread"] - 1}
    assert all(i["title"] != "收到移送问题：接口消息" for i in api.get("gy_sthjj", "/notices").json()["items"])


def test_the_done_notice_says_only_what_the_page_knows(client, api):
    referral = api.referral("gy_sthjj", "gy_qz_gov", title="完成提示")
    sign_in(client, "gy_sthjj")
    shown = client.get(f"/case/{referral['id']}", params={"done": "refer"}).text
    assert "已办理：移送" in shown
    forged = client.get(f"/case/{referral['id']}", params={"done": "您的账号已被冻结，请致电"}).text
    assert "您的账号已被冻结" not in forged and "已办理：" not in forged


def test_the_clocks_notes_read_in_words_on_the_case_page(client, api, cases, clock):
    from datetime import timedelta

    from engine.timers import run_due

    referral = api.referral("gy_sthjj", "gy_qz_gov", title="期限届满的移送")
    clock.advance(timedelta(days=30))
    run_due(cases)
    sign_in(client, "gy_sthjj")
    page = client.get(f"/case/{referral['id']}").text
    timeline = page[page.index('data-testid="timeline"'):]
    assert "期限届满：3个工作日内签收" in timeline
    assert "deadline_expired" not in page and "deadline_warning" not in page and "supervision_opened" not in page
