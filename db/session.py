"""Engines and transactions: WAL SQLite or PostgreSQL, one write path for both.

Database faults (read-only, disk full, a server shutting down, a lost connection) are named once
here, by `fault_of`: the API answers them 503 and, because a connection made during a fault keeps
it (a PostgreSQL session opened while the database was read-only stays read-only; a SQLite file
opened while it could not be written is opened read-only), every connection that saw one is
replaced, so the product recovers when the fault clears, without a restart.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

# SQLSTATEs after which a PostgreSQL connection is not to be used again.
_PG_FAULTS = {
    "25006": "read_only",      # read_only_sql_transaction: the session was opened read-only
    "53100": "disk_full",
    "57P01": "shutdown",       # admin_shutdown
    "57P02": "shutdown",       # crash_shutdown
    "57P03": "starting_up",    # cannot_connect_now
}
# Primary SQLite result codes (the low byte of the extended code).
_SQLITE_FAULTS = {5: "busy", 6: "busy", 8: "read_only", 10: "io_error", 13: "disk_full", 14: "cannot_open"}
# Faults that say nothing against the connection itself: it stays.
_TRANSIENT = frozenset({"busy"})


def fault_of(exc: BaseException) -> str | None:
    """The kind of database fault an exception is ("read_only", "disk_full", "io_error",
    "shutdown", "disconnected", "busy", "unavailable", ...), or None when it is not one (a constraint,
    a bug). Takes SQLAlchemy's wrapped errors and the raw driver errors the hot path raises alike."""
    if isinstance(exc, sa_exc.TimeoutError):
        return "busy"  # no pooled connection came free in time
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None and (code & 0xFF) in _SQLITE_FAULTS:
            return _SQLITE_FAULTS[code & 0xFF]
        return None  # "no such table" and its kin are OperationalErrors too, and bugs, not faults
    if isinstance(orig, psycopg.Error):
        state = orig.sqlstate or ""
        if state in _PG_FAULTS:
            return _PG_FAULTS[state]
        if state.startswith("40"):
            return "busy"  # a deadlock or serialization failure: retry; nothing wrong with the connection
        if state.startswith("08") or (isinstance(orig, psycopg.OperationalError) and not state):
            return "disconnected"  # connection exceptions, or a socket that broke before any answer
        return "unavailable" if isinstance(orig, psycopg.OperationalError) else None
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return "disconnected"
    return "unavailable" if isinstance(exc, sa_exc.OperationalError) else None


def replaces_connection(fault: str | None) -> bool:
    return fault is not None and fault not in _TRANSIENT


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE is ours to issue.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer takes the lock up front: a deferred BEGIN that later upgrades can deadlock.
        # Straight to the driver: this runs once per transaction on the hot path.
        conn.connection.dbapi_connection.execute(
            "BEGIN IMMEDIATE" if conn.get_execution_options().get("gz_write") else "BEGIN")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):
        # Once per new session, not per transaction: was it born read-only (ALTER DATABASE ... SET
        # default_transaction_read_only, a standby)? Such a session stays so after the database
        # recovers; the write path replaces it instead of failing on it.
        cur = dbapi_conn.cursor()
        cur.execute("SHOW default_transaction_read_only")
        record.info["gz_read_only"] = cur.fetchone()[0] == "on"
        record.info["gz_born"] = time.monotonic()
        cur.close()
        dbapi_conn.commit()

    @event.listens_for(engine, "handle_error")
    def _on_error(ctx):
        # Read-only, disk full and shutdowns count as disconnects: SQLAlchemy then discards this
        # connection and every pooled one opened before it, which may have the same fault.
        if replaces_connection(fault_of(ctx.original_exception)):
            ctx.is_disconnect = True


class Database:
    """One engine plus the write discipline the backend needs."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
            _configure_sqlite(self.engine)
        else:
            # Pre-ping costs a round trip per checkout; it is what lets a server restart or a
            # failover cost nothing but that round trip instead of one failed request per pooled
            # connection.
            self.engine = create_engine(url, echo=echo, pool_size=12, max_overflow=8, pool_recycle=3600,
                                        pool_pre_ping=True)
            _configure_postgresql(self.engine)
        # SQLite allows one writer; queueing in-process beats every thread spinning on busy_timeout.
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._writer: Connection | None = None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: commits on success, rolls back on any exception."""
        if self._write_lock is not None:
            with self._write_lock:
                # One writer at a time, so one long-lived connection serves them all: no pool
                # checkout and return per event.
                conn = self._writer
                if conn is None or conn.closed or conn.invalidated:
                    conn = self._writer = self.engine.connect().execution_options(gz_write=True)
                try:
                    with conn.begin():
                        yield conn
                except BaseException as exc:
                    if conn.invalidated or replaces_connection(fault_of(exc)):
                        # A writer that met a full disk or a read-only file may have been opened
                        # read-only: the next write opens a fresh one.
                        self._drop_writer()
                    raise
        else:
            conn = self._write_connection()
            try:
                with conn.begin():
                    yield conn
            except BaseException as exc:
                # The hot path writes through the driver's cursor, past handle_error: replace the
                # connection, and the pool's others, here too.
                if not conn.invalidated and replaces_connection(fault_of(exc)):
                    conn.invalidate(exc if isinstance(exc, Exception) else None)
                    self.engine.dispose()
                raise
            finally:
                conn.close()

    def _write_connection(self) -> Connection:
        """A pooled connection, but not one opened while the database refused writes: those are
        discarded until a session opened now says what the database says now."""
        asked = time.monotonic()
        conn = self.engine.connect()
        while conn.connection.info.get("gz_read_only") and conn.connection.info.get("gz_born", 0.0) < asked:
            conn.invalidate()
            conn.close()
            conn = self.engine.connect()
        return conn

    def _drop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.invalidate()
                writer.close()
            except Exception:  # it is being thrown away because it failed; do not fail again
                pass

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (rolled back at the end)."""
        with self.engine.connect() as conn, conn.begin() as tx:
            yield conn
            tx.rollback()

    def dispose(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.engine.dispose()
