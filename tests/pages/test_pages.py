"""The pages through FastAPI's TestClient, on both databases: sign-in, my work, a case, forms and refusals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.pages.conftest import PASSWORD


def login_token(client) -> str:
    """The sign-in form's pre-session token (double submit against login CSRF)."""
    return re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text).group(1)


def sign_in(client, username: str) -> str:
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/",
                                    "login_token": login_token(client)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_a_page_needs_sign_in_and_the_header_says_who_i_am(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/"
    r = client.post("/login", data={"username": "office", "password": "wrong", "login_token": login_token(client)})
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


def test_the_office_pages_count_overdue_work_and_the_public_page_needs_no_sign_in(client, api, clock):
    referral = api.referral("gy_sthjj", "gy_qz_gov")  # to be accepted within 3 working days
    clock.advance(timedelta(days=10))
    sign_in(client, "office")
    overdue = client.get("/office/overdue").text
    assert re.search(r'data-testid="overdue-total">1<', overdue) and "清镇市政府" in overdue and "贵阳市" in overdue
    for path, text in (("/office/calendar?month=2026-03", "2026年3月 日程"), ("/office/overdue", "逾期未办结事项"),
                       ("/office/ladder", "督办红黄牌"), ("/office/scorecards?year=2026", "2026年度各单位履职情况")):
        r = client.get(path)
        assert r.status_code == 200 and text in r.text, path
    assert referral["number"] in client.get(f"/case/{referral['id']}").text
    api.create("office", "红枫湖沿岸排污口未封堵", workflow="problem_item",
               payload={"problem": "排污口未封堵", "responsible_unit": "gy_qz_gov"})
    public = client.__class__(client.app)
    assert "/public/two_lakes" in public.get("/public").text  # several task forces: a list
    r = public.get("/public/two_lakes")
    assert r.status_code == 200 and "问题整改情况公开" in r.text
    march = re.search(r"<tr><td>2026年3月</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", r.text)
    assert march and march.groups() == ("1", "0", "0")
    assert "2026年4月" not in r.text  # months to come are not listed
    assert "红枫湖沿岸" not in r.text and "清镇市" not in r.text  # counts only, never titles or units


def test_office_pages_are_the_offices_and_the_procurator_sees_reply_deadlines(client):
    sign_in(client, "as_pb_gov")
    assert client.get("/office/overdue").status_code == 403
    sign_in(client, "procurator")
    r = client.get("/procurator")
    assert r.status_code == 200 and "检察建议回复期限" in r.text


def test_a_case_i_may_not_see_reads_as_not_found(client, api):
    referral = api.referral("gy_sthjj", "gy_qz_gov")
    csrf = sign_in(client, "as_pb_gov")
    r = client.get(f"/case/{referral['id']}")
    assert r.status_code == 404 and "没有找到这件事项" in r.text and referral["title"] not in r.text
    r = client.post(f"/case/{referral['id']}/events/accept", data={"csrf_token": csrf})
    assert r.status_code == 404
    assert client.get("/new/meeting").status_code == 404  # a member does not open meetings


def test_a_form_on_a_case_changed_meanwhile_is_refused_and_keeps_what_was_typed(client, api):
    case = api.create("gy_sthjj", "红枫湖沿岸排污口")
    csrf = sign_in(client, "gy_sthjj")
    version = re.search(r'name="version" value="(\d+)"', client.get(f"/case/{case['id']}").text).group(1)
    api.ok("gy_sthjj", case["id"], "report_to_office", {"reason": "跨市"})  # someone else acts first
    r = client.post(f"/case/{case['id']}/events/refer", data={
        "csrf_token": csrf, "version": version, "receiver": "gy_qz_gov", "reason": "属地管理，请清镇市处理"})
    assert r.status_code == 422
    assert "属地管理，请清镇市处理" in r.text and "专班办公室统筹协调" in r.text
    assert "未能办理“移送”" in r.text


def test_a_receiver_objects_with_reasons_and_the_office_designates_it_through_the_pages(client, api):
    """Within one city the model lets a receiver object; the browser journey crosses cities and cannot."""
    case = api.referral("gy_sthjj", "gy_qz_gov")
    csrf = sign_in(client, "gy_qz_gov")
    assert case["title"] in client.get("/").text  # waiting on 清镇市政府
    r = client.post(f"/case/{case['id']}/events/object", data={"csrf_token": csrf, "reason": ""})
    assert r.status_code == 422 and "此项必填" in r.text
    r = client.post(f"/case/{case['id']}/events/object", data={
        "csrf_token": csrf, "reason": "问题点位在花溪区", "proposed_unit": "gy_sthjj"}, follow_redirects=False)
    assert r.status_code == 303
    csrf = sign_in(client, "office")
    r = client.post(f"/case/{case['id']}/events/designate", data={"csrf_token": csrf, "reason": "点位属清镇市"},
                    follow_redirects=True)
    assert "已移送待签收" in r.text and "问题点位在花溪区" in r.text and "点位属清镇市" in r.text
    csrf = sign_in(client, "gy_qz_gov")
    # Forms follow state and role; guards answer on submit: a designated unit may not object again.
    r = client.post(f"/case/{case['id']}/events/object", data={"csrf_token": csrf, "reason": "再次申请"})
    assert r.status_code == 422 and "已由专班办公室指定承办，不得再次退回" in r.text and "再次申请" in r.text


def test_the_ladder_and_the_scorecards_show_who_holds_a_yellow_card(client, api):
    case = api.create("office", "督办：清镇市政府逾期未签收", workflow="supervision",
                      parties={"supervised": ["gy_qz_gov"]}, payload={"item": "移送事项签收"})
    api.ok("office", case["id"], "yellow")
    sign_in(client, "office")
    ladder = client.get("/office/ladder").text
    row = re.search(r"<tr><td><span class=\"badge yellow\">黄牌</span></td>\s*<td>([^<]*)</td>", ladder)
    assert row and row.group(1) == "清镇市政府"
    cards = client.get("/office/scorecards?year=2026").text
    assert re.search(r"<tr><td>清镇市政府</td>(<td[^>]*>[^<]*</td>){4}<td data-label=\"黄牌\">1</td><td data-label=\"红牌\">0</td></tr>", cards)
