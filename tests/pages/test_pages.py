"""The pages through FastAPI's TestClient, on both databases: sign-in, my work, a case, forms and refusals."""

from __future__ import annotations

import re

import pytest

from tests.pages.conftest import PASSWORD


def sign_in(client, username: str) -> str:
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_a_page_needs_sign_in_and_the_header_says_who_i_am(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/"
    r = client.post("/login", data={"username": "office", "password": "wrong"})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    sign_in(client, "office")
    home = client.get("/")
    assert "专班办公室（演示）" in home.text and "专班办公室工作人员" in home.text and "我的待办" in home.text


def test_a_referral_from_a_page_with_a_missing_field_keeps_what_was_typed(client):
    csrf = sign_in(client, "ga_sthjj")
    r = client.post("/new/referral", data={"csrf_token": csrf, "title": "马场河上游垃圾", "problem": "",
                                           "location": "平坝区"})
    assert r.status_code == 422
    assert "此项必填" in r.text and 'value="马场河上游垃圾"' in r.text and 'value="平坝区"' in r.text
    r = client.post("/new/referral", data={"csrf_token": csrf, "title": "马场河上游垃圾", "problem": "沿岸垃圾",
                                           "cross_city": "1"}, follow_redirects=False)
    assert r.status_code == 303
    case = client.get(r.headers["location"])
    assert "草稿" in case.text and "报专班办公室统筹协调" in case.text
    case_id = int(r.headers["location"].split("/")[2].split("?")[0])
    r = client.post(f"/case/{case_id}/events/report_to_office", data={"csrf_token": "forged", "reason": "x"})
    assert r.status_code == 403 and "页面已过期" in r.text
    r = client.post(f"/case/{case_id}/events/report_to_office", data={"csrf_token": csrf, "reason": "跨市问题"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "专班办公室统筹协调" in client.get(f"/case/{case_id}").text


@pytest.mark.parametrize("path", ["/login", "/new/referral"])
def test_pages_are_chinese(client, path):
    sign_in(client, "office")
    assert 'lang="zh-CN"' in client.get(path).text
