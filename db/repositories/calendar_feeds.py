"""Every SQL statement about iCalendar subscriptions (a person's tokenised feed URL)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from db.models import CalendarFeed, User

feeds = CalendarFeed.__table__
users = User.__table__


def active(conn: Connection, user_id: int) -> datetime | None:
    """When the person's live feed was made, or None."""
    return conn.execute(select(feeds.c.created_at).where(feeds.c.user_id == user_id, feeds.c.revoked_at.is_(None))
                        .order_by(feeds.c.created_at.desc())).scalar()


def revoke_all(conn: Connection, user_id: int, now: datetime) -> int:
    return conn.execute(update(feeds).where(feeds.c.user_id == user_id, feeds.c.revoked_at.is_(None))
                        .values(revoked_at=now)).rowcount


def insert_feed(conn: Connection, user_id: int, token_hash: str, now: datetime) -> None:
    conn.execute(insert(feeds), {"token_hash": token_hash, "user_id": user_id, "created_at": now, "revoked_at": None})


def username_of(conn: Connection, token_hash: str) -> str | None:
    """The active account a live feed token belongs to."""
    return conn.execute(select(users.c.username).select_from(feeds.join(users, users.c.id == feeds.c.user_id))
                        .where(feeds.c.token_hash == token_hash, feeds.c.revoked_at.is_(None),
                               users.c.active.is_(True))).scalar()
