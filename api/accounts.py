"""Accounts: argon2 passwords, opaque sign-in tokens, API keys — creation and look-up.

Tokens and keys are 256-bit random strings; the database keeps only their SHA-256 (a slow hash adds
nothing to a secret that cannot be guessed, and this look-up runs on every request). Passwords,
which people choose, are hashed with argon2id.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST
from sqlalchemy import Connection

from db.repositories import accounts as repo
from db.repositories.accounts import Account
from engine.access import Viewer
from engine.errors import BadPayload, NotFound

TOKEN_PREFIX = "gzt_"
KEY_PREFIX = "gzk_"
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@\-]{1,60}$")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_for(token: str) -> str:
    """The CSRF token that goes with a session cookie: derived, so nothing more is stored."""
    return hashlib.sha256(b"csrf:" + token.encode()).hexdigest()[:32]


def hasher(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(CHEAPEST) if profile == "cheapest" else PasswordHasher()


def viewer_of(account: Account) -> Viewer:
    return Viewer(id=f"{account.kind}:{account.id}", name=account.display_name, unit=account.unit_code,
                  task_force=account.task_force_code, roles=frozenset(account.roles), office=account.office)


@dataclass(frozen=True)
class SignedIn:
    token: str
    account: Account
    expires_at: datetime


class SignInThrottled(Exception):
    """Too many failed sign-ins for one username: refused, correct password or not, for `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; retry after {retry_after} s")
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        """The wait in whole minutes, rounded up, as people are told it."""
        return (self.retry_after + 59) // 60


class Accounts:
    # How long a process trusts a token or key it has looked up. Signing out evicts at once in this
    # process; another worker may honour a revoked token (or a deactivated account) this long.
    CACHE_SECONDS = 5.0
    CACHE_SIZE = 10_000
    # Failed sign-ins allowed per username within the window before it is refused until the oldest
    # failure leaves the window. Kept per process: N server processes allow N times as many guesses.
    FAILURES_ALLOWED = 5
    FAILURE_WINDOW = timedelta(minutes=15)

    def __init__(self, passwords: PasswordHasher, token_ttl: timedelta) -> None:
        self.passwords = passwords
        self.token_ttl = token_ttl
        self._cache: dict[str, tuple[Account, datetime]] = {}
        self._cache_lock = threading.Lock()
        self._failures: dict[str, list[datetime]] = {}
        # Verified against when the user does not exist, so both answers take the same time.
        self._dummy = passwords.hash(secrets.token_urlsafe(16))

    # --- creating -------------------------------------------------------------------------------

    def _check_owner(self, conn: Connection, unit: str, task_force: str, roles: list[str]) -> list[str]:
        known = repo.task_force_roles(conn, task_force)
        if known is None:
            raise NotFound(f"task force {task_force!r} not found", task_force=task_force)
        if not repo.unit_in_task_force(conn, unit, task_force):
            raise BadPayload("unit", f"{unit!r} is not a unit of task force {task_force!r}")
        unknown = [r for r in roles if r not in known]
        if unknown:
            raise BadPayload("roles", f"unknown role(s) {', '.join(unknown)}; {task_force} has {', '.join(known)}")
        return list(dict.fromkeys(roles))

    def create_user(self, conn: Connection, *, username: str, display_name: str, unit: str, task_force: str,
                    roles: list[str], password: str, now: datetime) -> int:
        if not USERNAME_RE.match(username):
            raise BadPayload("username", "use 1-60 letters, digits or . _ @ -")
        if repo.username_taken(conn, username):
            raise BadPayload("username", f"{username!r} is taken")
        if len(password) < 8:
            raise BadPayload("password", "at least 8 characters")
        roles = self._check_owner(conn, unit, task_force, roles)
        return repo.insert_user(conn, username=username, display_name=display_name or username, unit=unit,
                                task_force=task_force, roles=roles, password_hash=self.passwords.hash(password),
                                at=now)

    def create_key(self, conn: Connection, *, name: str, unit: str, task_force: str, roles: list[str],
                   now: datetime) -> tuple[int, str]:
        """A new API key; the key itself is returned once and never stored."""
        roles = self._check_owner(conn, unit, task_force, roles)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        key_id = repo.insert_key(conn, name=name, prefix=key[:10], key_hash=digest(key), unit=unit,
                                 task_force=task_force, roles=roles, at=now)
        return key_id, key

    # --- signing in -----------------------------------------------------------------------------

    def sign_in(self, conn: Connection, username: str, password: str, kind: str, now: datetime) -> SignedIn | None:
        """A new token, or None for a wrong username or password; SignInThrottled after too many failures."""
        key = username.casefold()
        with self._cache_lock:
            recent = [t for t in self._failures.get(key, []) if t > now - self.FAILURE_WINDOW]
            self._failures[key] = recent
        if len(recent) >= self.FAILURES_ALLOWED:
            raise SignInThrottled(max(1, int((recent[0] + self.FAILURE_WINDOW - now).total_seconds()) + 1))
        found = repo.by_username(conn, username)
        try:
            self.passwords.verify(found[1] if found else self._dummy, password)
        except (VerificationError, InvalidHashError):
            found = None
        if found is None:
            with self._cache_lock:
                if len(self._failures) >= self.CACHE_SIZE:
                    # Usernames sprayed at random must not grow this without bound: keep the recent.
                    since = now - self.FAILURE_WINDOW
                    self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > since}
                    if len(self._failures) >= self.CACHE_SIZE:
                        self._failures.clear()
                self._failures.setdefault(key, []).append(now)
            return None
        with self._cache_lock:
            self._failures.pop(key, None)
        account, stored = found
        if self.passwords.check_needs_rehash(stored):
            repo.set_password_hash(conn, account.id, self.passwords.hash(password))
        repo.purge_expired_tokens(conn, account.id, now)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = now + self.token_ttl
        repo.insert_token(conn, token_hash=digest(token), user_id=account.id, kind=kind, at=now, expires_at=expires)
        return SignedIn(token, account, expires)

    def disable_user(self, conn: Connection, username: str) -> int:
        """Deactivate a user and end its sign-ins (another process may still honour a token for up to
        CACHE_SECONDS)."""
        user_id = repo.deactivate_user(conn, username)
        if user_id is None:
            raise NotFound(f"no user {username!r}", username=username)
        self._forget_all()
        return user_id

    def revoke_key(self, conn: Connection, key_id: int) -> str:
        name = repo.deactivate_key(conn, key_id)
        if name is None:
            raise NotFound(f"no API key {key_id}", key_id=key_id)
        self._forget_all()
        return name

    def _forget_all(self) -> None:
        # The cache is keyed by secret, not by account: forgetting everything is the only sure way.
        with self._cache_lock:
            self._cache.clear()

    def sign_out(self, conn: Connection, token: str) -> None:
        repo.delete_token(conn, digest(token))
        with self._cache_lock:
            self._cache.pop(token, None)

    def cached(self, secret: str, now: datetime) -> Account | None:
        """The account a recent look-up found for this token or key, if still fresh."""
        hit = self._cache.get(secret)
        if hit is None or hit[1] <= now:
            return None
        return hit[0]

    def remember(self, secret: str, account: Account, now: datetime) -> None:
        with self._cache_lock:
            if len(self._cache) >= self.CACHE_SIZE:
                self._cache.clear()
            self._cache[secret] = (account, now + timedelta(seconds=self.CACHE_SECONDS))

    def by_token(self, conn: Connection, token: str, now: datetime) -> Account | None:
        return repo.by_token(conn, digest(token), now)

    def by_key(self, conn: Connection, key: str) -> Account | None:
        return repo.by_key(conn, digest(key))
