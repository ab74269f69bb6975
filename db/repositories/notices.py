"""Statements about notices: writing them in an event's transaction, reading and marking them read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, func, insert, or_, select, update

from db.models import Case, Channel, Delivery, Notice, NoticeRead, OutboxItem, TaskForceUnit, Unit, User

_n = Notice.__table__
_r = NoticeRead.__table__
_ch = Channel.__table__
_u = User.__table__
_units = Unit.__table__
_tfu = TaskForceUnit.__table__
_o = OutboxItem.__table__
_d = Delivery.__table__
_c = Case.__table__

TOPIC = "notice"


def insert_notice(conn: Connection, row: dict[str, Any]) -> int:
    return conn.execute(insert(_n).returning(_n.c.id), row).scalar_one()


def office_units(conn: Connection, task_force: str) -> list[str]:
    return list(conn.execute(
        select(_units.c.code).join(_tfu, _tfu.c.unit_code == _units.c.code)
        .where(_tfu.c.task_force_code == task_force, _units.c.kind == "office").order_by(_units.c.code)).scalars())


def unit_names(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    codes = [c for c in codes if c]
    if not codes:
        return {}
    return dict(conn.execute(select(_units.c.code, _units.c.short_name).where(_units.c.code.in_(codes))).all())


def accounts_with_roles(conn: Connection, task_force: str, roles: set[str]) -> list[tuple[int, str]]:
    """(id, username) of the active accounts of a task force holding any of `roles`."""
    rows = conn.execute(select(_u.c.id, _u.c.username, _u.c.roles)
                        .where(_u.c.task_force_code == task_force, _u.c.active)).all()
    return [(r.id, r.username) for r in rows if roles & set(r.roles or ())]


def enqueue_deliveries(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> None:
    """Outbox rows for external channels; a dedupe key already queued is left as it is."""
    for row in rows:
        if conn.execute(select(_o.c.id).where(_o.c.dedupe_key == row["dedupe_key"])).first() is not None:
            continue
        conn.execute(insert(_o), {"topic": TOPIC, "status": "pending", "attempts": 0, "available_at": now,
                                  "created_at": now, **row})


def _mine(unit: str, user_id: int):
    return or_(_n.c.unit_code == unit, _n.c.user_id == user_id)


def _unread(user_id: int):
    return ~exists().where(_r.c.notice_id == _n.c.id, _r.c.user_id == user_id)


def unread_count(conn: Connection, unit: str, user_id: int, since: datetime | None = None) -> int:
    stmt = select(func.count()).select_from(_n).where(_mine(unit, user_id), _unread(user_id))
    if since is not None:
        stmt = stmt.where(_n.c.created_at >= since)
    return conn.execute(stmt).scalar_one()


def notices_for(conn: Connection, unit: str, user_id: int, *, limit: int, offset: int = 0,
                unread_only: bool = False, since: datetime | None = None, only_id: int | None = None):
    """My notices, newest first, each with whether I have read it and its case's number."""
    read = exists().where(_r.c.notice_id == _n.c.id, _r.c.user_id == user_id)
    stmt = (select(_n, read.label("read"), _c.c.number.label("case_number"))
            .select_from(_n.outerjoin(_c, _c.c.id == _n.c.case_id))
            .where(_mine(unit, user_id)).order_by(_n.c.id.desc()).limit(limit).offset(offset))
    if unread_only:
        stmt = stmt.where(~read)
    if since is not None:
        stmt = stmt.where(_n.c.created_at >= since)
    if only_id is not None:
        stmt = stmt.where(_n.c.id == only_id)
    return conn.execute(stmt).all()


def count_for(conn: Connection, unit: str, user_id: int, since: datetime | None = None) -> int:
    stmt = select(func.count()).select_from(_n).where(_mine(unit, user_id))
    if since is not None:
        stmt = stmt.where(_n.c.created_at >= since)
    return conn.execute(stmt).scalar_one()


def mark_read(conn: Connection, unit: str, user_id: int, notice_ids: list[int] | None, now: datetime) -> int:
    """Mark some of my notices (or all, with None) read; returns how many were unread."""
    stmt = select(_n.c.id).where(_mine(unit, user_id), _unread(user_id))
    if notice_ids is not None:
        stmt = stmt.where(_n.c.id.in_(notice_ids))
    ids = list(conn.execute(stmt).scalars())
    if ids:
        conn.execute(insert(_r), [{"notice_id": i, "user_id": user_id, "read_at": now} for i in ids])
    return len(ids)


def notices_of_case(conn: Connection, case_id: int):
    """Who was told what about a case: the notices with their recipient's name."""
    who = func.coalesce(_units.c.short_name, _u.c.display_name)
    return conn.execute(
        select(_n, who.label("recipient"))
        .select_from(_n.outerjoin(_units, _units.c.code == _n.c.unit_code).outerjoin(_u, _u.c.id == _n.c.user_id))
        .where(_n.c.case_id == case_id).order_by(_n.c.id)).all()


def external_of_case(conn: Connection, case_id: int):
    """The case's notices queued for external channels, with their delivery state."""
    return conn.execute(select(_o).where(_o.c.case_id == case_id, _o.c.topic == TOPIC).order_by(_o.c.id)).all()


def deliveries_of_case(conn: Connection, case_id: int):
    return conn.execute(select(_d).where(_d.c.case_id == case_id).order_by(_d.c.id)).all()


def touch(conn: Connection, notice_id: int, **values: Any) -> None:
    conn.execute(update(_n).where(_n.c.id == notice_id).values(**values))
