"""Accounts and authentication: tokens, API keys, session cookies with CSRF, the CLI, and 401 everywhere."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from db.session import Database
from tests.api.conftest import PASSWORD

OPEN = {("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics"), ("POST", "/auth/token"), ("POST", "/auth/session")}


def every_operation(app):
    for path, item in app.openapi()["paths"].items():
        for method in item:
            yield method.upper(), path


def test_every_endpoint_but_health_and_sign_in_needs_credentials(app, client):
    checked = 0
    for method, path in every_operation(app):
        if (method, path) in OPEN:
            continue
        concrete = re.sub(r"\{[a-z_]+\}", "1", path)
        for headers in ({}, {"Authorization": "Bearer gzt_forged"}, {"X-API-Key": "gzk_forged"}):
            r = client.request(method, concrete, headers=headers)
            assert r.status_code == 401, (method, path, headers, r.text)
            body = r.json()
            assert body["code"] == "not_authenticated" and body["message_zh"] and body["message_en"]
            assert r.headers["www-authenticate"].startswith("Bearer")
        checked += 1
    assert checked >= 12
    assert client.get("/health").status_code == 200


def test_token_sign_in_me_and_sign_out(client):
    r = client.post("/auth/token", data={"username": "procurator", "password": "wrong password"})
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
    r = client.post("/auth/token", data={"username": "nobody", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
    r = client.post("/auth/token", data={"username": "procurator", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    me = client.get("/me", headers=headers).json()
    assert me["login"] == "procurator" and me["unit"] == "gy_jcy" and me["unit_name"] == "贵阳市检察院"
    assert me["roles"] == ["chief_procurator", "procurator"] and me["office"] is False
    assert client.get("/me", headers=headers).status_code == 200
    assert client.post("/auth/logout", headers=headers).status_code == 204
    assert client.get("/me", headers=headers).status_code == 401


def test_the_office_account_is_the_office(client, login):
    me = client.get("/me", headers=login("office")).json()
    assert me["office"] is True and me["unit"] == "two_lakes_office"


def test_tokens_expire(client, login, clock, settings):
    headers = login("office")
    clock.advance(timedelta(hours=settings.token_ttl_hours, seconds=1))
    assert client.get("/me", headers=headers).status_code == 401


def test_api_keys(db, client, api, clock):
    from api.accounts import Accounts, hasher

    service = Accounts(hasher("cheapest"), timedelta(hours=1))
    with db.write() as conn:
        _, key = service.create_key(conn, name="贵阳市检察院办案系统", unit="gy_jcy", task_force="two_lakes",
                                    roles=["procurator"], now=clock.now())
    # A clue handed to the procuratorate (not a referral: a procuratorate is no 承办单位 of one).
    clue = api.create("gy_sthjj", "疑似非法排污线索", workflow="pil_case",
                      payload={"facts": "沿岸疑似非法排污", "procuratorate": "gy_jcy"})
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        me = client.get("/me", headers=headers).json()
        assert me["kind"] == "key" and me["unit"] == "gy_jcy"
        assert client.get(f"/cases/{clue['id']}", headers=headers).status_code == 200
    r = client.post(f"/cases/{clue['id']}/events", headers={"X-API-Key": key}, json={"event": "register_clue"})
    assert r.status_code == 200 and r.json()["state"] == "evaluating"
    history = client.get(f"/cases/{clue['id']}/history", headers={"X-API-Key": key}).json()
    assert history[-1]["actor_id"].startswith("key:") and history[-1]["actor_unit"] == "gy_jcy"
    r = client.post("/auth/logout", headers={"X-API-Key": key})
    assert r.status_code == 403 and r.json()["code"] == "keys_do_not_sign_out"


def test_session_cookie_needs_the_csrf_header_for_changes(client, api):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    r = client.post("/auth/session", json={"username": "gy_qz_gov", "password": PASSWORD})
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    assert r.cookies.get("gongzhi_csrf") == csrf and "httponly" in r.headers["set-cookie"].lower()
    assert client.get(f"/cases/{case['id']}").status_code == 200  # the cookie alone reads
    r = client.post(f"/cases/{case['id']}/events", json={"event": "accept"})
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = client.post(f"/cases/{case['id']}/events", json={"event": "accept"}, headers={"X-CSRF-Token": "0" * 32})
    assert r.status_code == 403
    r = client.post(f"/cases/{case['id']}/events", json={"event": "accept"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert client.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    assert client.get(f"/cases/{case['id']}").status_code == 401


def test_sign_in_refuses_malformed_input(client):
    r = client.post("/auth/token", data={"username": "a b\x00", "password": "x"})
    assert r.status_code == 422 and r.json()["details"]["field"] == "body.username"
    assert client.post("/auth/session", json={"username": "office"}).status_code == 422


def test_cli_user_add_apikey_add_and_init_demo(backend, fresh_url, monkeypatch):
    monkeypatch.setenv("GONGZHI_PASSWORD_PROFILE", "cheapest")
    from db.settings import get_settings

    get_settings.cache_clear()
    try:
        url = fresh_url(backend)
        runner = CliRunner()
        first = runner.invoke(cli, ["init", "--demo", "--database-url", url])
        assert first.exit_code == 0, first.output
        lines = {line.split()[0]: line.split() for line in first.output.splitlines() if line.startswith("  ")}
        assert {"office", "convenor", "gy_sthjj", "as_sthjj", "as_pb_gov", "ga_sthjj", "procurator",
                "observer"} <= set(lines)
        assert lines["procurator"][2:4] == ["gy_jcy", "procurator,chief_procurator"]
        second = runner.invoke(cli, ["init", "--demo", "--database-url", url])
        assert "已存在" in second.output and lines["office"][1] not in second.output
        made = runner.invoke(cli, ["user", "add", "wang", "--unit", "as_xx_gov", "--role", "member", "--name",
                                   "王五", "--password-stdin", "--database-url", url], input="a long password\n")
        assert made.exit_code == 0 and "two_lakes" in made.output, made.output
        assert runner.invoke(cli, ["user", "add", "wang", "--unit", "as_xx_gov", "--role", "member", "--generate",
                                   "--database-url", url]).exit_code == 2
        bad = runner.invoke(cli, ["user", "add", "li", "--unit", "as_xx_gov", "--role", "king", "--generate",
                                  "--database-url", url])
        assert bad.exit_code == 2 and "unknown role" in bad.output
        key = runner.invoke(cli, ["apikey", "add", "监测平台", "--unit", "gy_sthjj", "--role", "member",
                                  "--database-url", url])
        assert key.exit_code == 0 and "gzk_" in key.output
        key_id = int(key.output.split("key:")[1].split()[0])
        secret = key.output.split("X-API-Key): ")[1].strip()

        # A liaison leaves, a system is retired: their sign-ins stop working.
        db = Database(url)
        try:
            client = TestClient(create_app(db=db))
            token = client.post("/auth/token", data={"username": "wang", "password": "a long password"})
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            assert client.get("/me", headers=bearer).status_code == 200
            assert client.get("/me", headers={"X-API-Key": secret}).status_code == 200
            off = runner.invoke(cli, ["user", "disable", "wang", "--database-url", url])
            assert off.exit_code == 0 and "disabled" in off.output, off.output
            revoked = runner.invoke(cli, ["apikey", "revoke", str(key_id), "--database-url", url])
            assert revoked.exit_code == 0 and "监测平台" in revoked.output, revoked.output
            # A new process (no cached look-ups) refuses both, and the password no longer signs in.
            fresh = TestClient(create_app(db=db))
            assert fresh.get("/me", headers=bearer).status_code == 401
            assert fresh.get("/me", headers={"X-API-Key": secret}).status_code == 401
            assert fresh.post("/auth/token", data={"username": "wang", "password": "a long password"}).status_code == 401
            assert runner.invoke(cli, ["user", "disable", "nobody", "--database-url", url]).exit_code == 2
            assert runner.invoke(cli, ["apikey", "revoke", "999", "--database-url", url]).exit_code == 2
        finally:
            db.dispose()
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("profile", ["cheapest"])
def test_production_refuses_unsafe_settings(profile):
    from pydantic import ValidationError

    from db.settings import Settings

    with pytest.raises(ValidationError):
        Settings(environment="production", password_profile=profile, cookie_secure=True)
    with pytest.raises(ValidationError):
        Settings(environment="production", cookie_secure=False)
    assert Settings(environment="production", cookie_secure=True).password_profile == "default"


def test_repeated_failed_sign_ins_are_delayed_not_locked(client, clock):
    # Three wrong passwords are free; then each try from the same address waits, right password or not.
    for _ in range(3):
        r = client.post("/auth/token", data={"username": "office", "password": "wrong"})
        assert r.status_code == 401
    statuses = [client.post("/auth/token", data={"username": "office", "password": "wrong"}).status_code
                for _ in range(2)]
    assert 429 in statuses  # the test clock steps a second per reading: the 5 s wait may just have passed once
    r = client.post("/auth/token", data={"username": "office", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert "后再试" in r.json()["message_zh"] and 0 < int(r.headers["Retry-After"]) <= 5 * 60
    assert client.post("/auth/session", json={"username": "office", "password": PASSWORD}).status_code == 429
    # The delay is short and the owner is not locked out: once it has passed, the right password works.
    clock.advance(timedelta(seconds=int(r.headers["Retry-After"])))
    assert client.post("/auth/token", data={"username": "office", "password": PASSWORD}).status_code == 200

