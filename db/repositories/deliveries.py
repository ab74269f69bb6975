"""Delivering notices: the outbox rows of topic "notice" and the record of every attempt (deliveries).

The claim and the lease are the outbox's own (db/repositories/outbox.py): one short transaction picks a
due row, FOR UPDATE SKIP LOCKED on PostgreSQL, and moves its available_at past the lease so no other
worker takes it while this one sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from db.models import Channel, Delivery, OutboxItem
from db.repositories import outbox

TOPIC = "notice"
# A test message from `gongzhi channel test` or the office page: recorded like a notice, never queued.
TEST_TOPIC = "notice_test"

_o = OutboxItem.__table__
_d = Delivery.__table__
_c = Channel.__table__


def claim(conn: Connection, now: datetime, limit: int = 1):
    """Notice rows that are due, in id order; on PostgreSQL rows other workers hold are skipped."""
    return outbox.claim(conn, TOPIC, now, limit=limit)


def lease(conn: Connection, item_id: int, until: datetime) -> None:
    outbox.lease(conn, item_id, until)


def release(conn: Connection, ids: Iterable[int], now: datetime) -> int:
    """Hand back rows claimed but not sent (a worker told to stop): claimable again at once."""
    ids = list(ids)
    if not ids:
        return 0
    return conn.execute(update(_o).where(_o.c.id.in_(ids), _o.c.status == "pending")
                        .values(available_at=now)).rowcount


def complete(conn: Connection, item_id: int, now: datetime) -> None:
    outbox.complete(conn, item_id, now)


def retry_at(conn: Connection, item_id: int, error: str, at: datetime) -> int:
    """Count a failed attempt and make the row due again at `at`; the attempts so far."""
    return conn.execute(update(_o).where(_o.c.id == item_id).values(
        attempts=_o.c.attempts + 1, last_error=error[:4000], available_at=at, status="pending")
        .returning(_o.c.attempts)).scalar_one()


def give_up(conn: Connection, item_id: int, error: str) -> None:
    """Stop trying: the row stays, status failed, with the last error (listed, never dropped)."""
    conn.execute(update(_o).where(_o.c.id == item_id).values(
        attempts=_o.c.attempts + 1, last_error=error[:4000], status="failed"))


def defer(conn: Connection, item_id: int, until: datetime) -> None:
    """Not now (quiet hours, the day's cap): due again at `until`; not an attempt."""
    conn.execute(update(_o).where(_o.c.id == item_id).values(available_at=until))


def log(conn: Connection, *, outbox_id: int, notice_id: int | None, case_id: int | None,
        channel_id: int | None, at: datetime, outcome: str, detail: str) -> None:
    """One deliveries row: sent | failed | deferred | gave_up."""
    conn.execute(insert(_d).values(outbox_id=outbox_id, notice_id=notice_id, case_id=case_id,
                                   channel_id=channel_id, at=at, outcome=outcome, detail=detail[:2000]))


def sent_since(conn: Connection, channel_id: int, since: datetime) -> int:
    """Notices sent on a channel since a moment (the daily cap counts from the Beijing day's start)."""
    return conn.execute(select(func.count()).select_from(_d).where(
        _d.c.channel_id == channel_id, _d.c.outcome == "sent", _d.c.at >= since)).scalar_one()


def record_test(conn: Connection, *, channel_id: int, payload: dict[str, Any], now: datetime) -> int:
    """An outbox row standing for a test message (done at once: nothing ever claims it); its id,
    so the attempt can be logged in deliveries like any other."""
    return conn.execute(insert(_o).values(topic=TEST_TOPIC, case_id=None, history_seq=None, payload=payload,
                                          status="done", attempts=1, available_at=now, created_at=now,
                                          done_at=now).returning(_o.c.id)).scalar_one()


def deliveries_of_case(conn: Connection, case_id: int):
    """Every attempt for a case's notices, oldest first: (id, at, outcome, detail, channel_id, notice_id,
    outbox_id, kind, target, owner_kind, owner); kind and the rest are None when the channel was removed."""
    return conn.execute(
        select(_d.c.id, _d.c.at, _d.c.outcome, _d.c.detail, _d.c.channel_id, _d.c.notice_id, _d.c.outbox_id,
               _c.c.kind, _c.c.target, _c.c.owner_kind, _c.c.owner)
        .select_from(_d.outerjoin(_c, _c.c.id == _d.c.channel_id))
        .where(_d.c.case_id == case_id).order_by(_d.c.at, _d.c.id)).all()


def deliveries_of_channel(conn: Connection, channel_id: int, limit: int = 20):
    """A channel's latest attempts, newest first: (id, at, outcome, detail, case_id, outbox_id)."""
    return conn.execute(select(_d.c.id, _d.c.at, _d.c.outcome, _d.c.detail, _d.c.case_id, _d.c.outbox_id)
                        .where(_d.c.channel_id == channel_id).order_by(_d.c.at.desc(), _d.c.id.desc())
                        .limit(limit)).all()


def last_outcomes(conn: Connection, channel_ids: Iterable[int]) -> dict[int, Any]:
    """The latest attempt per channel: channel_id -> (at, outcome, detail)."""
    ids = list(channel_ids)
    if not ids:
        return {}
    latest = (select(_d.c.channel_id, func.max(_d.c.id).label("last")).where(_d.c.channel_id.in_(ids))
              .group_by(_d.c.channel_id).subquery())
    rows = conn.execute(select(_d.c.channel_id, _d.c.at, _d.c.outcome, _d.c.detail)
                        .join(latest, latest.c.last == _d.c.id)).all()
    return {r.channel_id: r for r in rows}
