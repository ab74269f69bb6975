"""The sign-in throttle, kept in the database: two app instances (two server processes' worth) over one
database count the same failures; a guesser is slowed, a sprayer too, and the owner is never locked out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.accounts import Accounts
from api.app import create_app
from db.models import SignInAttempt
from engine.clock import FixedClock
from tests.api.conftest import PASSWORD


@pytest.fixture
def clock():
    # Still, so a wait lasts exactly as long as the test says (the shared test clock steps per reading).
    return FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), step=timedelta(0))


@pytest.fixture
def two(db, clock, settings, accounts):
    """Two app instances sharing the test's database: what two `gongzhi serve` processes share."""
    return create_app(settings, db, clock), create_app(settings, db, clock)


def _from(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def _token(client: TestClient, username: str, password: str):
    return client.post("/auth/token", data={"username": username, "password": password})


def _attempts(db, **where) -> list[tuple[str, str, bool, str]]:
    with db.read() as conn:
        rows = conn.execute(select(SignInAttempt.username, SignInAttempt.source, SignInAttempt.ok,
                                   SignInAttempt.outcome).order_by(SignInAttempt.id)).all()
    return [tuple(r) for r in rows if all(getattr(SignInAttempt, k) is not None and r._mapping[k] == v
                                          for k, v in where.items())]


def test_failures_are_counted_across_processes_and_every_attempt_is_recorded(two, db, clock):
    one, other = _from(two[0], "198.51.100.7"), _from(two[1], "198.51.100.7")
    # Alternating between the two instances: the third wrong password is the third in both.
    for client in (one, other, one):
        assert _token(client, "office", "wrong").status_code == 401
    r = _token(other, "office", "wrong")
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["code"] == "too_many_attempts" and body["request_id"] and "后再试" in body["message_zh"]
    assert int(r.headers["Retry-After"]) == body["details"]["retry_after"] > 0
    # Refused without checking the password: the right one waits too, and waiting does not lengthen it.
    assert _token(one, "office", PASSWORD).status_code == 429
    outcomes = [a[3] for a in _attempts(db)]
    assert outcomes == ["wrong", "wrong", "wrong", "throttled", "throttled"]
    assert {a[:2] for a in _attempts(db)} == {("office", "198.51.100.7")}
    clock.advance(timedelta(seconds=int(r.headers["Retry-After"])))
    assert _token(other, "office", PASSWORD).status_code == 200
    assert _attempts(db)[-1][2:] == (True, "ok")


def test_a_guesser_waits_longer_each_time_without_locking_the_owner_out(two, db, clock):
    attacker, owner = _from(two[0], "203.0.113.9"), _from(two[1], "192.0.2.20")
    for _ in range(3):
        assert _token(attacker, "gy_sthjj", "guess").status_code == 401
    waits = []
    for _ in range(5):
        r = _token(attacker, "gy_sthjj", "guess")
        assert r.status_code == 429
        waits.append(int(r.headers["Retry-After"]))
        clock.advance(timedelta(seconds=waits[-1]))
        assert _token(attacker, "gy_sthjj", "guess").status_code == 401
    # A growing delay, not a fixed lock-out.
    assert waits == [5, 10, 20, 40, 80]
    # The owner at its own address signs in at once: the attacker's failures slow the attacker.
    assert _token(owner, "gy_sthjj", PASSWORD).status_code == 200


def test_many_addresses_guessing_one_account_delay_the_owner_by_seconds_at_most(two, db, clock):
    app = two[0]
    for n in range(30):
        r = _token(_from(app, f"10.0.{n // 250}.{n % 250 + 1}"), "as_sthjj", "guess")
        assert r.status_code in (401, 429)
    r = _token(_from(two[1], "192.0.2.30"), "as_sthjj", PASSWORD)
    if r.status_code == 429:
        # Per username across addresses the delay is gentle: at most Accounts.USERNAME_DELAY.cap seconds.
        assert int(r.headers["Retry-After"]) <= Accounts.USERNAME_DELAY.cap
        clock.advance(timedelta(seconds=int(r.headers["Retry-After"])))
        r = _token(_from(two[1], "192.0.2.30"), "as_sthjj", PASSWORD)
    assert r.status_code == 200


def test_a_password_sprayed_over_many_usernames_from_one_address_is_slowed(two, db, clock):
    sprayer = _from(two[0], "198.51.100.99")
    statuses = [_token(sprayer, f"user{n}", "Spring2026!").status_code for n in range(14)]
    # Ten wrong passwords from one address are free, whatever the usernames; then the address waits.
    assert statuses == [401] * 10 + [429] * 4, statuses
    assert _token(_from(two[1], "198.51.100.99"), "office", PASSWORD).status_code == 429
    # Another address is not affected.
    assert _token(_from(two[1], "192.0.2.40"), "office", PASSWORD).status_code == 200


def _login_form(client: TestClient) -> str:
    return re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text).group(1)


def test_the_sign_in_page_says_when_to_come_back_in_chinese(two, db, clock):
    page = _from(two[0], "198.51.100.50")
    token = _login_form(page)
    for _ in range(3):
        r = page.post("/login", data={"username": "office", "password": "wrong", "login_token": token})
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    # The other process saw the same failures.
    other = _from(two[1], "198.51.100.50")
    token = _login_form(other)
    r = other.post("/login", data={"username": "office", "password": PASSWORD, "login_token": token})
    assert r.status_code == 429 and "登录尝试过于频繁" in r.text and "秒后再试" in r.text
    assert int(r.headers["Retry-After"]) > 0
    assert "gongzhi_session" not in r.cookies


def test_a_nul_or_an_overlong_username_is_a_wrong_password_not_a_server_error(two, db):
    client = _from(two[0], "198.51.100.60")
    for username in ("off\x00ice", "x" * 500):
        r = client.post("/auth/session", json={"username": username, "password": "x"})
        assert r.status_code == 422 and r.json()["request_id"]
    token = _login_form(client)
    r = client.post("/login", data={"username": "off\x00ice", "password": "wrong", "login_token": token})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    assert _attempts(db)[-1][0] == "off\ufffdice"
