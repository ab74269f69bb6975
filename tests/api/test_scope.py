"""Who sees what and who may move what: 404 for cases you may not see, 403 for moves you may not make."""

from __future__ import annotations

import pytest

CASE_PATHS = ("/cases/{id}", "/cases/{id}/history", "/cases/{id}/events", "/cases/{id}/export",
              "/cases/{id}/attachments")


def listed(api, who: str, **params) -> set[int]:
    r = api.get(who, "/cases", limit=200, **params)
    assert r.status_code == 200, r.text
    return {c["id"] for c in r.json()["items"]}


def test_anshun_department_cannot_read_a_guiyang_referral(api):
    # 贵阳市生态环境局 refers a problem to 清镇市政府: two 贵阳市 units.
    case = api.referral("gy_sthjj", "gy_qz_gov")
    for path in CASE_PATHS:
        r = api.get("as_sthjj", path.format(id=case["id"]))
        assert r.status_code == 404, (path, r.text)
        assert r.json()["code"] == "not_found"
    # Indistinguishable from a case that does not exist: nothing about it leaks.
    missing = api.get("as_sthjj", "/cases/999999999").json()
    seen = api.get("as_sthjj", f"/cases/{case['id']}").json()
    assert {k: v for k, v in seen.items() if k not in ("request_id", "message_en", "details")} == \
        {k: v for k, v in missing.items() if k not in ("request_id", "message_en", "details")}
    assert case["id"] not in listed(api, "as_sthjj")
    assert api.get("as_sthjj", "/cases", q="生活垃圾").json()["total"] == 0
    # Firing on it is a 404 too, not a 403: a 403 would confirm the case exists.
    r = api.fire("as_sthjj", case["id"], "accept")
    assert r.status_code == 404
    # The two parties and the office see it.
    for who in ("gy_sthjj", "gy_qz_gov", "office"):
        assert api.get(who, f"/cases/{case['id']}").status_code == 200, who
        assert case["id"] in listed(api, who)


def test_anshun_department_cannot_move_a_referral_addressed_to_another_unit(api):
    # 安顺市生态环境局 refers to 平坝区政府: it sees the case (it is the referrer) but may not answer for the receiver.
    case = api.referral("as_sthjj", "as_pb_gov")
    assert api.get("as_sthjj", f"/cases/{case['id']}").status_code == 200
    r = api.fire("as_sthjj", case["id"], "accept")
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "role_not_held"
    assert body["details"]["needed_roles"] == ["receiver"] and body["details"]["allowed"] == []
    assert "receiver" in body["message_zh"] and "receiver" in body["message_en"]
    # Another unit, not a party, gets 404 for the same move.
    assert api.fire("gy_qz_gov", case["id"], "accept").status_code == 404
    # The receiver may.
    assert api.fire("as_pb_gov", case["id"], "accept").status_code == 200


def test_an_observer_cannot_fire_anything(api, client, login):
    briefing = api.create("office", "两湖水质情况通报", workflow="api_briefing",
                          parties={"invited": ["gz_observers", "gy_jcy"], "subject": ["as_pb_gov"]}, payload={})
    # Invited: may read, may fire nothing.
    r = api.get("observer", f"/cases/{briefing['id']}")
    assert r.status_code == 200 and r.json()["allowed_events"] == []
    assert api.get("observer", f"/cases/{briefing['id']}/events").json() == []
    for event, payload in (("comment", {"text": "我有意见"}), ("close", {})):
        r = api.fire("observer", briefing["id"], event, payload)
        assert r.status_code == 403 and r.json()["code"] == "role_not_held", r.text
    r = client.post(f"/cases/{briefing['id']}/attachments", headers=login("observer"),
                    files={"file": ("意见.txt", "列席意见".encode(), "text/plain")})
    assert r.status_code == 403 and r.json()["code"] == "not_contributor"
    # Not invited to a referral: cannot see it, so cannot move it.
    referral = api.referral("gy_sthjj", "gy_qz_gov")
    assert api.fire("observer", referral["id"], "accept").status_code == 404
    # Opening a case needs an organisation role the observer lacks.
    r = client.post("/cases", headers=login("observer"),
                    json={"workflow": "referral", "title": "t", "payload": {"problem": "p"}})
    assert r.status_code == 403 and r.json()["code"] == "role_not_held"
    # The subject of the briefing, a party whose role an event names, may act.
    assert api.fire("as_pb_gov", briefing["id"], "comment", {"text": "已整改"}).status_code == 200


@pytest.mark.parametrize(("who", "sees_guiyang", "sees_procuratorate_clue", "sees_briefing"), [
    ("office", True, True, True),            # the office: every case of its task force
    ("convenor", True, False, False),        # an org role referral events name: every referral
    ("gy_sthjj", True, False, False),        # the referrer
    ("gy_qz_gov", True, False, False),       # the receiver
    ("as_sthjj", False, False, False),
    ("ga_sthjj", False, False, False),
    ("procurator", False, True, True),       # its own clues and what it was invited to
    ("observer", False, False, True),        # only what it was invited to
    ("inspector", False, False, False),
    ("toy_office", False, False, False),     # an office of another task force sees nothing here
])
def test_each_role_sees_its_own(api, who, sees_guiyang, sees_procuratorate_clue, sees_briefing):
    guiyang = api.referral("gy_sthjj", "gy_qz_gov")
    # A clue handed to the procuratorate: its case, moved only by the procuratorate's own people.
    clue = api.create("as_pb_gov", "疑似非法排污线索", workflow="pil_case",
                      payload={"facts": "沿岸疑似非法排污", "procuratorate": "gy_jcy"})
    briefing = api.create("office", "两湖水质情况通报", workflow="api_briefing",
                          parties={"invited": ["gz_observers", "gy_jcy"]}, payload={})
    visible = listed(api, who)
    expected = {guiyang["id"]: sees_guiyang, clue["id"]: sees_procuratorate_clue, briefing["id"]: sees_briefing}
    for case_id, sees in expected.items():
        assert (case_id in visible) is sees, (who, case_id)
        assert api.get(who, f"/cases/{case_id}").status_code == (200 if sees else 404), (who, case_id)
    total = api.get(who, "/cases").json()["total"]
    assert total == sum(expected.values())


def test_organisation_roles_count_only_in_their_own_task_force(api, login, client):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    # toy's office holds "office" — a role that may terminate referrals — but in another task force.
    r = api.fire("toy_office", case["id"], "report_to_office", {"reason": "x"})
    assert r.status_code == 404
    r = client.post("/cases", headers=login("toy_office"),
                    json={"workflow": "referral", "title": "t", "payload": {"problem": "p"}})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
