"""Every SQL statement about sign-in attempts: recording one, and the recent failures the throttle reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, delete, func, insert, select

from db.models import SignInAttempt

attempts = SignInAttempt.__table__

# A failure that was judged: the password was checked and was wrong (a refused, throttled try is not one,
# so retrying while throttled never lengthens the wait).
WRONG = "wrong"
THROTTLED = "throttled"
OK = "ok"


@dataclass(frozen=True, slots=True)
class Failures:
    """Wrong passwords since a moment: how many, and when the last one was."""

    count: int
    last_at: datetime | None


def record(conn: Connection, *, at: datetime, username: str, source: str, ok: bool, outcome: str) -> None:
    conn.execute(insert(attempts).values(at=at, username=username[:100], source=source[:64], ok=ok,
                                         outcome=outcome))


def _failures(conn: Connection, since: datetime, *where) -> Failures:
    # Only failures after the last success of the same key count: signing in correctly starts afresh.
    last_ok = (select(func.max(attempts.c.at)).where(attempts.c.ok.is_(True), attempts.c.at > since, *where)
               .scalar_subquery())
    row = conn.execute(
        select(func.count(), func.max(attempts.c.at)).where(
            attempts.c.outcome == WRONG, attempts.c.at > since, *where,
            and_(attempts.c.at > func.coalesce(last_ok, since)))
    ).one()
    return Failures(int(row[0]), row[1])


def failures_of_pair(conn: Connection, username: str, source: str, since: datetime) -> Failures:
    return _failures(conn, since, attempts.c.username == username, attempts.c.source == source)


def failures_of_username(conn: Connection, username: str, since: datetime) -> Failures:
    return _failures(conn, since, attempts.c.username == username)


def failures_of_source(conn: Connection, source: str, since: datetime) -> Failures:
    # A source's successes do not forgive it: one valid account must not reset a password spray.
    row = conn.execute(select(func.count(), func.max(attempts.c.at)).where(
        attempts.c.outcome == WRONG, attempts.c.at > since, attempts.c.source == source)).one()
    return Failures(int(row[0]), row[1])


def purge_before(conn: Connection, before: datetime) -> int:
    return conn.execute(delete(attempts).where(attempts.c.at < before)).rowcount
