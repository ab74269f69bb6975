"""Engines and transactions: WAL SQLite or PostgreSQL, one write path for both."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url


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
            # No pre-ping: it costs a round trip per transaction; a dropped connection fails one
            # request and is replaced by the pool.
            self.engine = create_engine(url, echo=echo, pool_size=12, max_overflow=8, pool_recycle=3600)
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
                except BaseException:
                    if conn.invalidated:
                        self._writer = None
                    raise
        else:
            with self.engine.connect() as conn, conn.begin():
                yield conn

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
