"""Every SQL statement about accounts: users, sign-in tokens, API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from db.models import AccountChange, ApiKey, AuthToken, TaskForce, TaskForceUnit, Unit, User

users = User.__table__
tokens = AuthToken.__table__
keys = ApiKey.__table__
units = Unit.__table__
tf_units = TaskForceUnit.__table__
task_forces = TaskForce.__table__
changes = AccountChange.__table__


@dataclass(frozen=True, slots=True)
class Account:
    """Who a token or key speaks for."""

    kind: str  # user | key
    id: int
    login: str  # username, or the key's name
    display_name: str
    unit_code: str
    task_force_code: str
    roles: tuple[str, ...]
    # The unit is an office unit (kind "office") of the account's task force.
    office: bool


def _joined(owner):
    return owner.join(units, units.c.code == owner.c.unit_code).outerjoin(
        tf_units, and_(tf_units.c.unit_code == owner.c.unit_code,
                       tf_units.c.task_force_code == owner.c.task_force_code))


_USER_COLS = (users.c.id, users.c.username, users.c.display_name, users.c.unit_code, users.c.task_force_code,
              users.c.roles, units.c.kind, tf_units.c.unit_code)
# Built once: this runs on every authenticated request.
_BY_TOKEN = (select(*_USER_COLS).select_from(_joined(users).join(tokens, tokens.c.user_id == users.c.id))
             .where(tokens.c.token_hash == bindparam("b_hash"), tokens.c.expires_at > bindparam("b_now"),
                    users.c.active.is_(True)))
_BY_USERNAME = (select(*_USER_COLS, users.c.password_hash).select_from(_joined(users))
                .where(users.c.username == bindparam("b_username"), users.c.active.is_(True)))
_BY_KEY = (select(keys.c.id, keys.c.name, keys.c.name, keys.c.unit_code, keys.c.task_force_code, keys.c.roles,
                  units.c.kind, tf_units.c.unit_code).select_from(_joined(keys))
           .where(keys.c.key_hash == bindparam("b_hash"), keys.c.active.is_(True)))


def _account(kind: str, row) -> Account:
    return Account(kind, row[0], row[1], row[2], row[3], row[4], tuple(row[5] or ()),
                   row[6] == "office" and row[7] is not None)


def by_token(conn: Connection, token_hash: str, now: datetime) -> Account | None:
    row = conn.execute(_BY_TOKEN, {"b_hash": token_hash, "b_now": now}).first()
    return _account("user", row) if row else None


def by_username(conn: Connection, username: str) -> tuple[Account, str] | None:
    """The active account and its password hash."""
    row = conn.execute(_BY_USERNAME, {"b_username": username}).first()
    return (_account("user", row), row[8]) if row else None


def by_key(conn: Connection, key_hash: str) -> Account | None:
    row = conn.execute(_BY_KEY, {"b_hash": key_hash}).first()
    return _account("key", row) if row else None


def username_taken(conn: Connection, username: str) -> bool:
    return conn.execute(select(users.c.id).where(users.c.username == username)).first() is not None


def insert_user(conn: Connection, *, username: str, display_name: str, unit: str, task_force: str,
                roles: list[str], password_hash: str, at: datetime) -> int:
    return conn.execute(insert(users).returning(users.c.id), {
        "username": username, "display_name": display_name, "unit_code": unit, "task_force_code": task_force,
        "roles": roles, "password_hash": password_hash, "active": True, "created_at": at,
    }).scalar_one()


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def insert_token(conn: Connection, *, token_hash: str, user_id: int, kind: str, at: datetime,
                 expires_at: datetime) -> None:
    conn.execute(insert(tokens), {"token_hash": token_hash, "user_id": user_id, "kind": kind, "created_at": at,
                                  "expires_at": expires_at})


def deactivate_user(conn: Connection, username: str) -> int | None:
    """Mark the user inactive and end every sign-in it holds; its id, or None when there is no such user."""
    user_id = conn.execute(update(users).where(users.c.username == username).values(active=False)
                           .returning(users.c.id)).scalar()
    if user_id is not None:
        conn.execute(delete(tokens).where(tokens.c.user_id == user_id))
    return user_id


def deactivate_key(conn: Connection, key_id: int) -> str | None:
    """Mark the API key inactive; its name, or None when there is no such key."""
    return conn.execute(update(keys).where(keys.c.id == key_id).values(active=False).returning(keys.c.name)).scalar()


def delete_token(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(tokens).where(tokens.c.token_hash == token_hash))


def purge_expired_tokens(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(delete(tokens).where(tokens.c.user_id == user_id, tokens.c.expires_at <= now))


def insert_key(conn: Connection, *, name: str, prefix: str, key_hash: str, unit: str, task_force: str,
               roles: list[str], at: datetime) -> int:
    return conn.execute(insert(keys).returning(keys.c.id), {
        "name": name, "prefix": prefix, "key_hash": key_hash, "unit_code": unit, "task_force_code": task_force,
        "roles": roles, "active": True, "created_at": at,
    }).scalar_one()


def unit_in_task_force(conn: Connection, unit: str, task_force: str) -> bool:
    stmt = select(tf_units.c.unit_code).where(tf_units.c.unit_code == unit, tf_units.c.task_force_code == task_force)
    return conn.execute(stmt).first() is not None


def task_force_roles(conn: Connection, task_force: str) -> list[str] | None:
    """The organisation role codes of a task force, or None when there is no such task force."""
    roles = conn.execute(select(task_forces.c.roles).where(task_forces.c.code == task_force)).scalar_one_or_none()
    return None if roles is None else [r["code"] for r in roles]


def unit_short_name(conn: Connection, code: str) -> str | None:
    return conn.execute(select(units.c.short_name).where(units.c.code == code)).scalar_one_or_none()


def task_forces_of_unit(conn: Connection, unit: str) -> list[str]:
    return list(conn.execute(select(tf_units.c.task_force_code).where(tf_units.c.unit_code == unit)
                             .order_by(tf_units.c.task_force_code)).scalars())


@dataclass(frozen=True, slots=True)
class Person:
    """A user account as colleagues see it."""

    id: int
    username: str
    display_name: str
    unit_code: str
    task_force_code: str


_PERSON = select(users.c.id, users.c.username, users.c.display_name, users.c.unit_code, users.c.task_force_code)


def person(conn: Connection, user_id: int) -> Person | None:
    """An active user account, or None."""
    row = conn.execute(_PERSON.where(users.c.id == user_id, users.c.active.is_(True))).first()
    return Person(*row) if row else None


def people_of_unit(conn: Connection, unit: str, task_force: str) -> list[Person]:
    """The active user accounts of a unit in a task force, by name."""
    stmt = _PERSON.where(users.c.unit_code == unit, users.c.task_force_code == task_force,
                         users.c.active.is_(True)).order_by(users.c.display_name, users.c.id)
    return [Person(*r) for r in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user account as the accounts page lists it (never its password hash)."""

    id: int
    username: str
    display_name: str
    unit_code: str
    unit_name: str
    roles: tuple[str, ...]
    active: bool
    created_at: datetime


def users_of(conn: Connection, task_force: str) -> list[UserRow]:
    stmt = (select(users.c.id, users.c.username, users.c.display_name, users.c.unit_code, units.c.short_name,
                   users.c.roles, users.c.active, users.c.created_at)
            .select_from(users.join(units, units.c.code == users.c.unit_code))
            .where(users.c.task_force_code == task_force).order_by(users.c.active.desc(), users.c.username))
    return [UserRow(r[0], r[1], r[2], r[3], r[4], tuple(r[5] or ()), bool(r[6]), r[7]) for r in conn.execute(stmt)]


def user_of(conn: Connection, task_force: str, user_id: int) -> UserRow | None:
    return next((u for u in users_of(conn, task_force) if u.id == user_id), None)


def set_active(conn: Connection, user_id: int, active: bool) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(active=active))
    if not active:
        conn.execute(delete(tokens).where(tokens.c.user_id == user_id))


def set_roles_and_unit(conn: Connection, user_id: int, roles: list[str], unit: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(roles=roles, unit_code=unit))
    conn.execute(delete(tokens).where(tokens.c.user_id == user_id))  # the next sign-in carries the new rights


def end_sign_ins(conn: Connection, user_id: int) -> None:
    conn.execute(delete(tokens).where(tokens.c.user_id == user_id))


@dataclass(frozen=True, slots=True)
class ChangeRow:
    at: datetime
    actor_username: str
    username: str
    change: str
    detail: dict


def record_change(conn: Connection, *, at: datetime, task_force: str, actor: str, username: str, change: str,
                  detail: dict | None = None) -> None:
    conn.execute(insert(changes), {"at": at, "task_force_code": task_force, "actor_username": actor,
                                   "username": username, "change": change, "detail": detail or {}})


def changes_of(conn: Connection, task_force: str, limit: int = 100) -> list[ChangeRow]:
    stmt = (select(changes.c.at, changes.c.actor_username, changes.c.username, changes.c.change, changes.c.detail)
            .where(changes.c.task_force_code == task_force).order_by(changes.c.at.desc(), changes.c.id.desc())
            .limit(limit))
    return [ChangeRow(*r) for r in conn.execute(stmt)]
