"""GET /assessment: each unit's points by the two-lakes 考核细则, the cases behind every count, and
“当前逾期” as work overdue now (not work due by 31 December)."""

from __future__ import annotations

from datetime import timedelta


def _units(api, who: str = "office", **params) -> dict[str, dict]:
    body = api.get(who, "/assessment", year=2026, **params).json()
    return {u["unit"]: u for u in body["units"]}


def test_points_deductions_bonuses_and_the_cases_behind_them(api, clock):
    referral = api.referral("gy_sthjj", "gy_qz_gov", title="清镇市红枫湖沿岸垃圾", due="2026-03-31")
    card = api.create("office", "督办：清镇市政府逾期未签收", workflow="supervision",
                      parties={"supervised": ["gy_qz_gov"]}, payload={"item": "移送事项签收"})
    api.ok("office", card["id"], "yellow")

    body = api.get("office", "/assessment", year=2026).json()
    assert body["title"] == "2026年度成员单位履职考核细则" and body["base"] == 100
    rules = {r["code"]: r for r in body["rules"]}
    assert rules["yellow"] == {"code": "yellow", "title": "黄牌督办", "kind": "deduct", "counts": "card:yellow",
                               "points": "2", "cap": None}
    units = {u["unit"]: u for u in body["units"]}
    qz = units["gy_qz_gov"]
    lines = {ln["code"]: ln for ln in qz["lines"]}
    assert lines["yellow"] == {"code": "yellow", "title": "黄牌督办", "kind": "deduct", "count": 1, "points": 2}
    assert qz["deductions"] == 2 and qz["bonuses"] == 0 and qz["score"] == 98 and qz["cards"] == {"yellow": 1}
    # The referral is not due for days: nothing is overdue now (the old count took work due by 31 December).
    assert qz["overdue_now"] == 0
    old = {c["unit"]: c for c in api.get("office", "/scorecards", year=2026).json()}
    assert old["gy_qz_gov"]["open_overdue"] == 0 and old["gy_qz_gov"]["cards"] == {"yellow": 1}
    sthjj = units["gy_sthjj"]
    assert {ln["code"]: ln["count"] for ln in sthjj["lines"]}["referrals"] == 1
    assert sthjj["bonuses"] == 0.5 and sthjj["score"] == 100.5
    # Every member unit is assessed, with a record or without one.
    assert units["as_pb_gov"]["score"] == 100 and units["as_pb_gov"]["deductions"] == 0

    detail = api.get("office", "/assessment/gy_qz_gov", year=2026).json()
    assert [b["case_id"] for b in detail["behind"]["yellow"]] == [card["id"]]
    assert detail["behind"]["late"] == [] and detail["score"] == 98
    mine = api.get("office", "/assessment/gy_sthjj", year=2026).json()
    assert [(b["case_id"], b["number"]) for b in mine["behind"]["referrals"]] == [(referral["id"], referral["number"])]

    # A unit sees its own record only.
    assert list(_units(api, "gy_qz_gov")) == ["gy_qz_gov"]
    assert api.get("gy_qz_gov", "/assessment/gy_sthjj", year=2026).status_code == 404
    assert api.get("gy_qz_gov", "/assessment/gy_qz_gov", year=2026).json()["score"] == 98

    # Nobody signs for the referral: 3 working days pass, then 4 more — now it is overdue.
    clock.advance(timedelta(days=7))
    assert _units(api)["gy_qz_gov"]["overdue_now"] == 1
    # A year without rules gives the record and no points.
    other = api.get("office", "/assessment", year=2025).json()
    assert other["rules"] == [] and other["title"] is None
    assert all(u["score"] is None and u["lines"] == [] for u in other["units"])
