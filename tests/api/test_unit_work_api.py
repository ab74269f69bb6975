"""分办 / 认领 / 抄送 / 委托 through the JSON API and the case page: the same rules, bilingual refusals,
and the history, replay and verify still sound afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.cases import Cases
from engine.localtime import LOCAL_TZ
from tests import tx
from tests.api.conftest import PASSWORD

COLLEAGUES = {"qz_zhang": "张三（清镇）", "qz_li": "李四（清镇）"}


@pytest.fixture
def colleagues(_loaded, accounts):
    """Two more accounts of 清镇市政府 besides its liaison (gy_qz_gov): username -> user id."""
    from api.accounts import Accounts, hasher
    from db.repositories import accounts as repo

    service = Accounts(hasher("cheapest"), timedelta(hours=1))
    out = {}
    with _loaded.write() as conn:
        for username, name in COLLEAGUES.items():
            if not repo.username_taken(conn, username):
                service.create_user(conn, username=username, display_name=name, unit="gy_qz_gov",
                                    task_force="two_lakes", roles=["member"], password=PASSWORD,
                                    now=datetime(2026, 1, 1, tzinfo=LOCAL_TZ))
            out[username] = repo.by_username(conn, username)[0].id
    return out


def test_assign_act_delegate_share_read_over_the_api(api, client, login, colleagues, clock, db):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    cid = case["id"]
    people = {c["username"]: c["user_id"] for c in api.get("gy_qz_gov", "/me/colleagues").json()}
    assert set(COLLEAGUES) <= set(people) and "gy_sthjj" not in people

    # Refused: an account of another unit; a stale version; a unit with no part in the case (404).
    other = api.get("gy_sthjj", "/me/colleagues").json()[0]["user_id"]
    r = client.post(f"/cases/{cid}/assignment", headers=login("gy_qz_gov"), json={"assignee_id": other})
    assert r.status_code == 422 and r.json()["code"] == "bad_assignee"
    assert "本单位" in r.json()["message_zh"] and r.json()["message_en"]
    r = client.post(f"/cases/{cid}/assignment", headers=login("gy_qz_gov"),
                    json={"assignee_id": colleagues["qz_zhang"], "version": 1})
    assert r.status_code == 409 and r.json()["code"] == "stale_version"
    r = client.post(f"/cases/{cid}/claim", headers=login("as_pb_gov"), json={})
    assert r.status_code == 404

    r = client.post(f"/cases/{cid}/assignment", headers=login("gy_qz_gov"),
                    json={"assignee_id": colleagues["qz_zhang"], "version": case["version"]})
    assert r.status_code == 200, r.text
    assert [(a["unit"], a["name"]) for a in r.json()["assignees"]] == [("gy_qz_gov", "张三（清镇）")]
    r = client.post(f"/cases/{cid}/claim", headers=login("qz_li"), json={})
    assert r.status_code == 409 and "张三" in r.json()["message_zh"]

    # The liaison no longer acts for the unit on it (403, saying who does); 张三 does.
    assert api.get("gy_qz_gov", f"/cases/{cid}/events").json() == []
    r = api.fire("gy_qz_gov", cid, "accept")
    assert r.status_code == 403 and r.json()["code"] == "assigned_to_another" and "张三" in r.json()["message_zh"]
    api.ok("qz_zhang", cid, "accept")

    # 委托 for today only: 李四 acts for 张三, then the next day is refused.
    today = clock.now().astimezone(LOCAL_TZ).date()
    r = client.post("/me/delegations", headers=login("qz_zhang"),
                    json={"delegate_id": colleagues["qz_li"], "starts_on": str(today), "ends_on": str(today - timedelta(1))})
    assert r.status_code == 422 and r.json()["message_zh"] == "结束日期不能早于开始日期"
    r = client.post("/me/delegations", headers=login("qz_zhang"),
                    json={"delegate_id": other, "starts_on": str(today), "ends_on": str(today)})
    assert r.status_code == 422 and r.json()["code"] == "bad_assignee"
    r = client.post("/me/delegations", headers=login("qz_zhang"),
                    json={"delegate_id": colleagues["qz_li"], "starts_on": str(today), "ends_on": str(today)})
    assert r.status_code == 201 and r.json()["active"] is True
    held = api.get("qz_li", "/me/delegations").json()
    assert [(d["delegator_name"], d["active"]) for d in held] == [("张三（清镇）", True)]
    api.ok("qz_li", cid, "start_work")
    row = api.get("qz_li", f"/cases/{cid}/history").json()[-1]
    assert row["event"] == "start_work"
    clock.set(datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL_TZ)
              + timedelta(hours=9))
    r = api.fire("qz_li", cid, "progress", {"note": "清理过半"})
    assert r.status_code == 403 and "结束" in r.json()["message_zh"]

    # 抄送 to 平坝区政府: it reads the case (its first read is a receipt, once) and acts on nothing.
    r = client.post(f"/cases/{cid}/shares", headers=login("qz_zhang"), json={"units": ["gy_sthjj"]})
    assert r.status_code == 422  # already a party
    r = client.post(f"/cases/{cid}/shares", headers=login("qz_zhang"), json={"units": ["as_pb_gov"]})
    assert r.status_code == 200 and [s["unit"] for s in r.json()["shares"]] == ["as_pb_gov"]
    assert api.get("as_pb_gov", f"/cases/{cid}").status_code == 200
    assert api.get("as_pb_gov", f"/cases/{cid}").json()["allowed_events"] == []
    assert any(c["id"] == cid for c in api.get("as_pb_gov", "/cases").json()["items"])
    work = api.get("as_pb_gov", f"/cases/{cid}/work").json()
    assert [r["unit"] for r in work["receipts"]] == ["as_pb_gov"]
    r = client.post(f"/cases/{cid}/shares", headers=login("as_pb_gov"), json={"units": ["gy_swj"]})
    assert r.status_code == 403 and r.json()["code"] == "not_acting_unit"
    notes = [h["event"] for h in api.get("gy_qz_gov", f"/cases/{cid}/history").json() if h["kind"] == "note"]
    assert notes == ["assigned", "shared", "read"]
    assert tx.verify(Cases(db, clock)) == []

    # Cancelling: only the delegator or the delegate; another account is told "not found".
    did = held[0]["id"]
    assert client.delete(f"/me/delegations/{did}", headers=login("gy_qz_gov")).status_code == 404
    r = client.delete(f"/me/delegations/{did}", headers=login("qz_zhang"))
    assert r.status_code == 200 and r.json()["cancelled_at"] is not None


def test_the_case_page_and_my_work_show_who_handles_it(api, client, login, colleagues):
    first = api.referral("gy_sthjj", "gy_qz_gov", "先到的移送")
    second = api.referral("gy_sthjj", "gy_qz_gov", "后到的移送")
    page = client.get("/login")
    token = page.cookies.get("gongzhi_login")
    client.post("/login", data={"username": "qz_li", "password": PASSWORD, "login_token": token, "next": "/"})
    csrf = client.cookies.get("gongzhi_csrf")
    # 李四 claims the second referral on its page: it comes first in 我的待办 though due later.
    r = client.post(f"/case/{second['id']}/claim", data={"csrf_token": csrf, "version": str(second["version"])},
                    follow_redirects=False)
    assert r.status_code == 303
    html = client.get(f"/case/{second['id']}?done=claimed").text
    assert "已办理：认领" in html and "认领：李四（清镇）" in html and "改派给" in html
    work = client.get("/").text
    assert work.index("后到的移送") < work.index("先到的移送")
    # Assigning to another unit's account from the page is refused, in Chinese, nothing written.
    other = api.get("gy_sthjj", "/me/colleagues").json()[0]["user_id"]
    r = client.post(f"/case/{first['id']}/assignment", data={"csrf_token": csrf, "assignee": str(other)})
    assert r.status_code == 422 and "承办人须为本单位的在用账号" in r.text
    # The delegation page sets one and lists it.
    r = client.post("/me/delegation", data={"csrf_token": csrf, "delegate": str(colleagues["qz_zhang"]),
                                            "starts_on": "2026-03-02", "ends_on": "2026-03-06"})
    assert r.status_code == 200 and "张三（清镇）" in r.text and "生效中" in r.text
