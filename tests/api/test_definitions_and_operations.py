"""Definitions and their diagrams; /health and /ready; the error body and request ids."""

from __future__ import annotations

import logging

from sqlalchemy import create_engine

from api.app import create_app
from api.routes import operations
from db import migrate
from db.session import Database


def test_definitions_of_my_task_force(api):
    listed = api.get("gy_sthjj", "/definitions").json()
    names = {d["name"] for d in listed}
    assert {"referral", "api_briefing"} <= names and "ticket" not in names  # ticket belongs to toy
    # Every published version is listed; new cases take the latest.
    versions = {d["version"]: d for d in listed if d["name"] == "referral"}
    assert sorted(versions) == [1, 2, 3, 4] and not any(versions[v]["latest"] for v in (1, 2, 3))
    referral = versions[4]
    assert referral["latest"] is True and referral["task_force"] == "two_lakes"
    full = api.get("gy_sthjj", f"/definitions/{referral['id']}").json()
    assert full["states"][0] == {"name": "draft", "title": "草稿", "initial": True, "final": False}
    refer = next(e for e in full["events"] if e["name"] == "refer")
    assert refer["from_states"] == ["draft"] and refer["to_state"] == "referred" and refer["roles"] == ["referrer"]
    assert refer["documents"] == ["referral_letter"]
    assert full["create"]["roles"] == ["member", "office", "system"]  # system: opened from a report or anomaly
    r = api.get("gy_sthjj", f"/definitions/{referral['id']}/diagram")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("stateDiagram-v2\n") and "draft --> referred : 移送" in r.text
    toy = api.get("toy_office", "/definitions").json()
    assert {d["name"] for d in toy} == {"batch", "chore", "ladder", "ticket"}
    assert api.get("toy_office", f"/definitions/{referral['id']}").status_code == 404
    assert api.get("toy_office", f"/definitions/{referral['id']}/diagram").status_code == 404


def test_ready_reports_migrations_and_harfbuzz(client, monkeypatch, caplog):
    r = client.get("/ready")
    assert r.status_code == 200, r.text
    assert r.json()["migrations"] == "head" and "harfbuzz_subset" in r.json()
    monkeypatch.setattr(operations, "harfbuzz_status", lambda: "libharfbuzz-subset is not loadable")
    with caplog.at_level(logging.ERROR, logger="gongzhi.ready"):
        logging.getLogger("gongzhi").propagate = True
        try:
            r = client.get("/ready")
        finally:
            logging.getLogger("gongzhi").propagate = False
    assert r.status_code == 200 and r.json()["harfbuzz_subset"] == "libharfbuzz-subset is not loadable"
    assert "PDF rendering will be slow" in r.json()["warnings"][0]
    assert any("libharfbuzz-subset" in rec.getMessage() for rec in caplog.records)


def test_ready_is_503_below_head(backend, fresh_url, settings):
    url = fresh_url(backend)
    migrate.upgrade(url, "0002")
    db = Database(url)
    try:
        from fastapi.testclient import TestClient

        r = TestClient(create_app(settings, db)).get("/ready")
        assert r.status_code == 503 and r.json()["migrations"].startswith("at ['0002']")
    finally:
        db.dispose()
        create_engine(url).dispose()


def test_error_bodies_carry_codes_and_the_request_id(client, login):
    r = client.get("/cases/1", headers={"X-Request-ID": "trace-42"})
    assert r.status_code == 401 and r.headers["x-request-id"] == "trace-42"
    assert set(r.json()) == {"code", "message_zh", "message_en", "details", "request_id"}
    assert r.json()["request_id"] == "trace-42"
    r = client.get("/no/such/route", headers=login("office"))
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.delete("/cases", headers=login("office"))
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    r = client.get("/cases/not-a-number", headers=login("office"))
    assert r.status_code == 422 and r.json()["details"]["field"] == "path.case_id"
    r = client.get("/cases/99999999999999999999", headers=login("office"))
    assert r.status_code == 422
    r = client.post("/cases", headers={**login("office"), "Content-Type": "application/json"}, content=b"{not json")
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    generated = client.get("/health").headers["x-request-id"]
    assert len(generated) == 32


def test_access_log_is_json_with_the_request_id(client, login, capsys):
    logging.getLogger("gongzhi").setLevel(logging.INFO)
    client.get("/me", headers={**login("office"), "X-Request-ID": "log-check"})
    import json

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    entry = next(e for e in lines if e.get("request_id") == "log-check")
    assert entry["logger"] == "gongzhi.access" and entry["path"] == "/me" and entry["status"] == 200
    assert entry["principal"].startswith("user:") and entry["duration_ms"] >= 0
