"""People and systems that sign in: user accounts, their sign-in tokens, and API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import JsonType, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    task_force_code: Mapped[str] = mapped_column(ForeignKey("task_forces.code"))
    # Organisation roles of the task force (organisation.yaml `roles`), e.g. ["office", "office_head"].
    roles: Mapped[list[str]] = mapped_column(JsonType)
    # argon2id, in the PHC string format argon2-cffi writes.
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuthToken(Base):
    """A sign-in: only the SHA-256 of the token is kept, so a copied table signs nobody in."""

    __tablename__ = "auth_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # bearer (API clients) | cookie (pages; unsafe requests must also carry the CSRF header)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ApiKey(Base):
    """A key for another system (a procuratorate's case system, a monitoring platform)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    # The key's first characters, shown in lists so a key can be recognised without revealing it.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    task_force_code: Mapped[str] = mapped_column(ForeignKey("task_forces.code"))
    roles: Mapped[list[str]] = mapped_column(JsonType)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignInAttempt(Base):
    """One sign-in attempt, kept in the database so every server process counts the same failures:
    the throttle reads the recent failures of a username and of a source address."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_username_at", "username", "at"),
        Index("ix_sign_in_attempts_source_at", "source", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    username: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(64))  # the client's address
    ok: Mapped[bool] = mapped_column(Boolean)
    # refused without checking the password (throttled), or checked and wrong / right
    outcome: Mapped[str] = mapped_column(String(20))


class AccountChange(Base):
    """A change the office made to a user account (added, disabled, enabled, password reset, roles or
    unit changed): who changed whom, what, when. Kept for the accounts page and the paper trail."""

    __tablename__ = "account_changes"
    __table_args__ = (Index("ix_account_changes_task_force_at", "task_force_code", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    task_force_code: Mapped[str] = mapped_column(String(40))
    actor_username: Mapped[str] = mapped_column(String(60))
    username: Mapped[str] = mapped_column(String(60))
    # created | disabled | enabled | password_reset | roles | unit
    change: Mapped[str] = mapped_column(String(20))
    # What it was and became (roles, unit); never a password.
    detail: Mapped[dict] = mapped_column(JsonType)
class WorkVisit(Base):
    """When a person last looked at 我的待办: cases changed since are marked 新到.

    `marks_since` is the visit before the current sitting, so the markers stay while the person pages
    through the list and clear at the next sitting (engine-free; see api/pages/work.py)."""

    __tablename__ = "work_visits"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    marks_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CalendarFeed(Base):
    """A person's iCalendar subscription: calendar programs fetch it without a session, so the URL
    carries a random token; only its SHA-256 is kept. Revoked feeds answer 404."""

    __tablename__ = "calendar_feeds"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
