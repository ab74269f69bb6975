"""An app per test over the shared per-backend database, with one account per kind of user.

Accounts are created once per backend (the `db` fixture clears cases, not accounts) with the cheapest
argon2 profile; tokens are minted per test through the real sign-in endpoint.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.accounts import Accounts, hasher
from api.app import create_app
from api.demo import create_demo_accounts
from db.settings import Settings
from engine.clock import FixedClock
from engine.loader import load_definition_file
from engine.publishing import publish
from workflows import ROOT

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def accounts(_loaded):
    """username -> account, for the demo accounts plus a toy-task-force office (another task force)."""
    from datetime import timedelta

    service = Accounts(hasher("cheapest"), timedelta(hours=12))
    start = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    with _loaded.write() as conn:
        publish(conn, "two_lakes", load_definition_file(FIXTURES / "api" / "briefing.v1.yaml"), start)
    made = {a.username: a for a in create_demo_accounts(_loaded, service, ROOT, start)}
    from db.repositories import accounts as repo

    with _loaded.write() as conn:
        for username in made:
            account, _ = repo.by_username(conn, username)
            repo.set_password_hash(conn, account.id, service.passwords.hash(PASSWORD))
        if not repo.username_taken(conn, "toy_office"):
            service.create_user(conn, username="toy_office", display_name="测试专班办公室", unit="t_office",
                                task_force="toy", roles=["office"], password=PASSWORD, now=start.now())
    return made


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path, password_profile="cheapest", log_level="WARNING",
                    token_ttl_hours=24 * 30)


@pytest.fixture
def app(db, clock, settings, accounts):
    return create_app(settings, db, clock)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


@pytest.fixture
def login(client):
    """login("office") -> Authorization headers for that account."""
    cache: dict[str, dict[str, str]] = {}

    def sign_in(username: str) -> dict[str, str]:
        if username not in cache:
            r = client.post("/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            cache[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return cache[username]

    return sign_in


class Api:
    """Short calls for scenario tests."""

    def __init__(self, client: TestClient, login) -> None:
        self.client, self.login = client, login

    def create(self, who: str, title: str = "红枫湖沿岸生活垃圾堆放", workflow: str = "referral", **extra):
        body = {"workflow": workflow, "title": title, **extra}
        if workflow == "referral":
            body.setdefault("payload", {"problem": "清镇市红枫湖沿岸发现生活垃圾"})
        r = self.client.post("/cases", headers=self.login(who), json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def fire(self, who: str, case_id: int, event: str, payload: dict | None = None, headers: dict | None = None,
             **extra):
        return self.client.post(f"/cases/{case_id}/events", headers={**self.login(who), **(headers or {})},
                                json={"event": event, "payload": payload or {}, **extra})

    def ok(self, who: str, case_id: int, event: str, payload: dict | None = None):
        r = self.fire(who, case_id, event, payload)
        assert r.status_code == 200, r.text
        return r.json()

    def referral(self, referrer: str, receiver_unit: str, title: str = "红枫湖沿岸生活垃圾堆放", **payload):
        case = self.create(referrer, title)
        return self.ok(referrer, case["id"], "refer", {"receiver": receiver_unit, "reason": "属地管理", **payload})

    def get(self, who: str, path: str, **params):
        return self.client.get(path, headers=self.login(who), params=params)


@pytest.fixture
def api(client, login) -> Api:
    return Api(client, login)
