"""Channels: where a unit's or an account's notices are also sent (e-mail, 企业微信, 钉钉, a webhook)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from db.models import Channel, TaskForceUnit, Unit, User

_c = Channel.__table__
_u = User.__table__
_unit = Unit.__table__
_tfu = TaskForceUnit.__table__


def add(conn: Connection, *, owner_kind: str, owner: str, kind: str, target: str, secret: str | None,
        now: datetime) -> int:
    """A new enabled channel; its id."""
    return conn.execute(insert(_c).values(owner_kind=owner_kind, owner=owner, kind=kind, target=target,
                                          secret=secret or None, enabled=True, created_at=now)
                        .returning(_c.c.id)).scalar_one()


def get(conn: Connection, channel_id: int):
    """The channel row, or None."""
    return conn.execute(select(_c).where(_c.c.id == channel_id)).first()


def of_owners(conn: Connection, units: Iterable[str] = (), usernames: Iterable[str] = ()):
    """Every channel (enabled or not) of these units and these accounts, by owner then id."""
    units, usernames = list(units), list(usernames)
    if not units and not usernames:
        return []
    return conn.execute(select(_c).where(or_(
        and_(_c.c.owner_kind == "unit", _c.c.owner.in_(units)),
        and_(_c.c.owner_kind == "user", _c.c.owner.in_(usernames)),
    )).order_by(_c.c.owner_kind, _c.c.owner, _c.c.id)).all()


def all_channels(conn: Connection):
    """Every channel, by owner then id (the CLI lists a whole deployment's: tens to hundreds)."""
    return conn.execute(select(_c).order_by(_c.c.owner_kind, _c.c.owner, _c.c.id)).all()


def channels_for(conn: Connection, unit_codes: list[str], usernames: list[str], *,
                 with_unit_accounts: bool = True):
    """The enabled channels a notice to these units and accounts goes out on: the units' own, the named
    accounts', and (unless told otherwise) those of the active accounts of these units, since everyone in
    a unit reads its notices. Each channel once, in id order."""
    if not unit_codes and not usernames:
        return []
    owners = [and_(_c.c.owner_kind == "unit", _c.c.owner.in_(unit_codes)),
              and_(_c.c.owner_kind == "user", _c.c.owner.in_(usernames))]
    if with_unit_accounts and unit_codes:
        members = select(_u.c.username).where(_u.c.unit_code.in_(unit_codes), _u.c.active.is_(True))
        owners.append(and_(_c.c.owner_kind == "user", _c.c.owner.in_(members)))
    return conn.execute(select(_c).where(_c.c.enabled.is_(True), or_(*owners)).order_by(_c.c.id)).all()


def set_enabled(conn: Connection, channel_id: int, enabled: bool) -> bool:
    """Turn a channel on or off; False when there is no such channel."""
    return conn.execute(update(_c).where(_c.c.id == channel_id).values(enabled=enabled)).rowcount > 0


def remove(conn: Connection, channel_id: int) -> bool:
    """Delete a channel; its past deliveries stay (their channel_id becomes NULL)."""
    return conn.execute(delete(_c).where(_c.c.id == channel_id)).rowcount > 0


def unit_exists(conn: Connection, code: str) -> bool:
    return conn.execute(select(_unit.c.code).where(_unit.c.code == code)).first() is not None


def username_exists(conn: Connection, username: str) -> bool:
    return conn.execute(select(_u.c.id).where(_u.c.username == username)).first() is not None


def task_force_owners(conn: Connection, task_force: str) -> tuple[list, list]:
    """What an office may configure channels for: (code, name) of its task force's units and
    (username, display name, unit code) of its task force's active accounts."""
    units = conn.execute(select(_unit.c.code, _unit.c.name).join(_tfu, _tfu.c.unit_code == _unit.c.code)
                         .where(_tfu.c.task_force_code == task_force).order_by(_unit.c.code)).all()
    users = conn.execute(select(_u.c.username, _u.c.display_name, _u.c.unit_code)
                         .where(_u.c.task_force_code == task_force, _u.c.active.is_(True))
                         .order_by(_u.c.username)).all()
    return units, users
