"""Issue 14, Authority — the three findings, through the HTTP API as the demo accounts.

1. A member made another city's bureau the 统筹协调单位 of its own referral on opening it (and could set
   `receiver`, `invited` and other roles no event had given); the coordination ladder then ran against it.
2. A member named itself the 办案检察机关 of a public-interest case, then moved the case and opened a
   hearing in the procuratorate's numbering.
3. Cases named units of other task forces as parties.
Each refusal is 422 `unit_not_allowed`, naming the field, in Chinese and English, and writes nothing.
"""

from __future__ import annotations

from engine.cases import Cases
from engine.timers import run_due
from tests.conftest import local


def _refused(r, field: str, rule: str) -> dict:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "unit_not_allowed" and body["details"]["field"] == field, body
    assert body["details"]["rule"] == rule, body
    assert body["message_zh"].startswith(f"“{field}”所选单位不能担任该角色：") and body["message_en"] and body["request_id"]
    return body


def _total(api, who: str) -> int:
    return api.get(who, "/cases").json()["total"]


def test_a_member_cannot_make_another_citys_bureau_the_coordinator_of_its_referral(api, client, login, db, clock):
    member = login("gy_sthjj")
    before = _total(api, "office")
    body = {"workflow": "referral", "title": "红枫湖上游来水异常", "payload": {"problem": "上游来水污染", "cross_city": True}}
    # Another city's bureau as coordinator: the role is the office's, and only events give it.
    r = client.post("/cases", headers=member, json={**body, "parties": {"coordinator": ["as_sthjj"]}})
    refused = _refused(r, "parties.coordinator", "through")
    assert "统筹协调单位只能通过" in refused["message_zh"] and refused["details"]["role"] == "coordinator"
    # Not even the office itself can be put there on opening: only 报专班办公室统筹协调 or 申请退回 do it.
    r = client.post("/cases", headers=member, json={**body, "parties": {"coordinator": ["two_lakes_office"]}})
    _refused(r, "parties.coordinator", "through")
    # Nor the receiver, or any other role an event assigns.
    r = client.post("/cases", headers=member, json={**body, "parties": {"receiver": ["as_pb_gov"]}})
    _refused(r, "parties.receiver", "through")
    r = client.post("/cases", headers=login("office"), json={
        "workflow": "meeting", "title": "联席会议", "parties": {"organiser": ["two_lakes_office"], "invited": ["as_sthjj"]},
        "payload": {"kind": "plenary"}})
    _refused(r, "parties.invited", "through")
    # The referrer is the unit opening it, never another.
    r = client.post("/cases", headers=member, json={**body, "parties": {"referrer": ["as_sthjj"]}})
    _refused(r, "parties.referrer", "own_unit")
    assert _total(api, "office") == before

    # The way that stands: reported to the office, which coordinates — and is the one the ladder supervises.
    case = api.create("gy_sthjj", "红枫湖上游来水异常", payload=body["payload"])
    moved = api.ok("gy_sthjj", case["id"], "report_to_office", {"reason": "跨市问题"})
    assert moved["parties"]["coordinator"] == ["two_lakes_office"]
    clock.set(local(2026, 3, 27, 9))  # past the 15 working days (tokens last 30 days)
    run_due(Cases(db, clock))
    ladders = api.get("office", "/cases", workflow="supervision").json()["items"]
    assert ladders, "the coordination deadline opened the supervision ladder"
    supervised = {u for item in ladders for u in item["parties"].get("supervised", [])}
    assert supervised == {"two_lakes_office"}
    assert api.get("as_sthjj", "/cases", workflow="supervision").json()["total"] == 0


def test_a_member_cannot_name_itself_the_procuratorate_of_a_public_interest_case(api, client, login):
    member = login("gy_sthjj")
    clue = {"workflow": "pil_case", "title": "疑似非法排污线索", "payload": {"facts": "沿岸疑似非法排污"}}
    for unit in ("gy_sthjj", "gy_qz_gov", "two_lakes_office"):
        r = client.post("/cases", headers=member, json={**clue, "payload": {**clue["payload"], "procuratorate": unit}})
        body = _refused(r, "procuratorate", "kind")
        assert "不能担任办案检察机关，只能是检察机关" in body["message_zh"]
    # Through `parties` neither.
    r = client.post("/cases", headers=member, json={**clue, "payload": {**clue["payload"], "procuratorate": "gy_jcy"},
                                                    "parties": {"procuratorate": ["gy_sthjj"]}})
    _refused(r, "parties.procuratorate", "kind")
    assert api.get("procurator", "/cases", workflow="hearing").json()["total"] == 0

    # Handed to the real procuratorate: the member sees its clue but cannot move it or open a hearing.
    case = api.create("gy_sthjj", "疑似非法排污线索", workflow="pil_case",
                      payload={**clue["payload"], "procuratorate": "gy_jcy"})
    assert case["parties"]["procuratorate"] == ["gy_jcy"] and case["parties"]["clue_source"] == ["gy_sthjj"]
    r = api.fire("gy_sthjj", case["id"], "register_clue", {})
    assert r.status_code == 403 and r.json()["code"] == "role_not_held"
    api.ok("procurator", case["id"], "register_clue", {"note": "受理"})
    r = api.fire("gy_sthjj", case["id"], "propose_hearing", {"matter": "是否立案"})
    assert r.status_code == 403
    api.ok("procurator", case["id"], "propose_hearing", {"matter": "是否立案"})
    hearings = api.get("procurator", "/cases", workflow="hearing").json()["items"]
    assert [h["parties"]["procuratorate"] for h in hearings] == [["gy_jcy"]]
    # A procurator cannot open a hearing for another procuratorate either.
    r = client.post("/cases", headers=login("procurator"), json={
        "workflow": "hearing", "title": "听证", "parties": {"procuratorate": ["as_jcy"]},
        "payload": {"matter": "是否立案"}})
    assert r.status_code == 422 and r.json()["details"]["rule"] in ("own_unit", "kind"), r.text


def test_units_of_other_task_forces_are_refused_wherever_a_unit_is_named(api, client, login):
    member, office = login("gy_sthjj"), login("office")
    body = {"workflow": "referral", "title": "红枫湖沿岸生活垃圾堆放", "payload": {"problem": "沿岸垃圾"}}
    # As a party on opening (the toy task force's bureau, and a unit of 湘潭).
    for unit in ("t_b_bureau", "xt_hbj"):
        r = client.post("/cases", headers=office, json={**body, "parties": {"referrer": [unit]}})
        refused = _refused(r, "parties.referrer", "other_task_force")
        assert "不是本专班的单位" in refused["message_zh"] and refused["details"]["units"] == [unit]
    # In a create field that is no party.
    r = client.post("/cases", headers=member, json={**body, "payload": {"problem": "p", "proposed_receiver": "xt_hbj"}})
    _refused(r, "proposed_receiver", "other_task_force")
    # In an event's field that makes a party, and one that does not.
    case = api.create("gy_sthjj")
    r = api.fire("gy_sthjj", case["id"], "refer", {"receiver": "t_b_gov", "reason": "属地管理"})
    _refused(r, "receiver", "other_task_force")
    referred = api.referral("gy_sthjj", "gy_qz_gov")
    r = api.fire("gy_qz_gov", referred["id"], "object", {"reason": "非本单位职责", "proposed_unit": "hz_sthjj"})
    _refused(r, "proposed_unit", "other_task_force")
    # In a list field that makes parties on opening.
    r = client.post("/cases", headers=office, json={
        "workflow": "fund_application", "title": "中央资金项目", "payload": {
            "project": "红枫湖保护修复", "due": "2026-06-30", "applicants": ["gy_gov", "dxal_xs"], "lead_unit": "gy_gov"}})
    _refused(r, "applicants", "other_task_force")
    # A unit nobody knows stays `bad_payload` (the old answer).
    r = client.post("/cases", headers=office, json={**body, "parties": {"receiver": ["nowhere"]}})
    assert r.status_code == 422 and r.json()["code"] == "bad_payload"
    assert api.get("gy_sthjj", f"/cases/{case['id']}").json()["state"] == "draft"
