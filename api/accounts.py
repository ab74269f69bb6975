"""Accounts: argon2 passwords, opaque sign-in tokens, API keys — creation and look-up.

Tokens and keys are 256-bit random strings; the database keeps only their SHA-256 (a slow hash adds
nothing to a secret that cannot be guessed, and this look-up runs on every request). Passwords,
which people choose, are hashed with argon2id.
"""

from __future__ import annotations

import hashlib
import math
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
from db.repositories import sign_in_attempts as attempts_repo
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


@dataclass(frozen=True)
class SignInThrottled:
    """A sign-in refused without checking the password: come back after `retry_after` seconds."""

    retry_after: int

    @property
    def wait_zh(self) -> str:
        """The wait as people are told it: 秒 under a minute, else whole minutes rounded up."""
        return f"{self.retry_after}秒" if self.retry_after < 60 else f"{(self.retry_after + 59) // 60}分钟"

    @property
    def message_zh(self) -> str:
        return f"登录尝试过于频繁，请{self.wait_zh}后再试"


@dataclass(frozen=True)
class Delay:
    """A growing delay: fewer than `free` failures cost nothing; n ≥ free wait base·growth^(n-free) s, at most `cap`."""

    free: int
    base: float
    growth: float
    cap: float

    def seconds(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap, self.base * self.growth ** (failures - self.free))


class Accounts:
    # How long a process trusts a token or key it has looked up. Signing out evicts at once in this
    # process; another worker may honour a revoked token (or a deactivated account) this long.
    CACHE_SECONDS = 5.0
    CACHE_SIZE = 10_000
    # The throttle reads wrong passwords recorded in the database (sign_in_attempts), so every server
    # process counts the same failures. Nobody is locked out: a failure only delays the next try.
    #  - per (username, source): after 3 wrong passwords a guesser at one address waits 5, 10, 20 … up to
    #    5 minutes per try (about 15 guesses an hour, however many processes serve it);
    #  - per source across usernames: a password sprayed over many accounts from one address, up to 15 min;
    #  - per username across sources: much gentler (at most 30 s), so guessers at many addresses cannot keep
    #    the owner out — the owner, signing in from its own address, waits at most that.
    # Failures count within FAILURE_WINDOW and, for the first and last, only since the key's last success.
    FAILURE_WINDOW = timedelta(hours=1)
    PAIR_DELAY = Delay(free=3, base=5, growth=2, cap=300)
    SOURCE_DELAY = Delay(free=10, base=5, growth=2, cap=900)
    USERNAME_DELAY = Delay(free=10, base=2, growth=1.5, cap=30)
    KEEP_ATTEMPTS = timedelta(days=90)

    def __init__(self, passwords: PasswordHasher, token_ttl: timedelta) -> None:
        self.passwords = passwords
        self.token_ttl = token_ttl
        self._cache: dict[str, tuple[Account, datetime]] = {}
        self._cache_lock = threading.Lock()
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

    def throttled(self, conn: Connection, username: str, source: str, now: datetime) -> SignInThrottled | None:
        """Whether a try now must wait, and how long: the longest of the three delays, from each key's last failure."""
        since = now - self.FAILURE_WINDOW
        waits = []
        for delay, failures in (
                (self.PAIR_DELAY, attempts_repo.failures_of_pair(conn, username, source, since)),
                (self.SOURCE_DELAY, attempts_repo.failures_of_source(conn, source, since)),
                (self.USERNAME_DELAY, attempts_repo.failures_of_username(conn, username, since))):
            seconds = delay.seconds(failures.count)
            if seconds and failures.last_at is not None:
                waits.append((failures.last_at + timedelta(seconds=seconds) - now).total_seconds())
        wait = max(waits, default=0.0)
        return SignInThrottled(max(1, math.ceil(wait))) if wait > 0 else None

    def sign_in(self, conn: Connection, username: str, password: str, kind: str, now: datetime, *,
                source: str = "") -> SignedIn | SignInThrottled | None:
        """A new token; None for a wrong username or password; SignInThrottled (the password unchecked) while a
        recent failure's delay runs. Every attempt is recorded, in `conn`'s transaction: commit it either way."""
        # NUL cannot be stored or looked up on PostgreSQL: such a name is wrong, never a server error.
        key = username.replace("\x00", "\ufffd").casefold()[:100]
        source = source[:64] or "unknown"
        throttled = self.throttled(conn, key, source, now)
        if throttled is not None:
            attempts_repo.record(conn, at=now, username=key, source=source, ok=False, outcome=attempts_repo.THROTTLED)
            return throttled
        found = repo.by_username(conn, username) if USERNAME_RE.match(username) else None
        try:
            self.passwords.verify(found[1] if found else self._dummy, password)
        except (VerificationError, InvalidHashError):
            found = None
        if found is None:
            attempts_repo.record(conn, at=now, username=key, source=source, ok=False, outcome=attempts_repo.WRONG)
            return None
        attempts_repo.record(conn, at=now, username=key, source=source, ok=True, outcome=attempts_repo.OK)
        if secrets.randbelow(100) == 0:
            # The record is kept for KEEP_ATTEMPTS; an occasional purge keeps a spray from growing it forever.
            attempts_repo.purge_before(conn, now - self.KEEP_ATTEMPTS)
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

    def forget_cached(self) -> None:
        """After an account's rights change: no cached sign-in may speak for it as it was."""
        self._forget_all()

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
