"""A database that refuses writes: /ready says so, a write answers 503 with the error body and its
request id over a connection that stays open, and once the fault clears every request succeeds again
with no restart.

How each fault is made, for real, on this machine:
- SQLite, disk full: the data folder is a small tmpfs (`mount -t tmpfs`, root only; skipped with the
  reason otherwise) filled to the last byte by a filler file; freeing it clears the fault.
- SQLite, read-only: the database files are made unwritable (`chattr +i` as root, which ignores
  permissions; `chmod a-w` otherwise) and a second server process opens them, as one started or
  reconnected during the fault would: SQLite opens such a file read-only, and that connection stays
  read-only after the file is writable again (checked by hand: only a new connection writes).
- PostgreSQL, read-only: `ALTER DATABASE ... SET default_transaction_read_only = on` and every session
  of the database terminated (as a failover or restart would); new sessions are read-only.
- PostgreSQL, disk full: the database lives in a tablespace on a small tmpfs, filled up (skipped with
  the reason when tmpfs cannot be mounted or the server is not on this machine).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.session import Database
from tests.ops.server import PASSWORD, Client, assert_refused_as_fault, prepare, serve

ROOT_USER = os.geteuid() == 0


@contextlib.contextmanager
def small_disk(where: Path, megabytes: int, owner: str | None = None):
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"a small disk cannot be made here (mount -t tmpfs: {done.stderr.strip()})")
    try:
        if owner:
            subprocess.run(["chown", f"{owner}:{owner}", str(where)], check=True)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk refuses another byte."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 512, 1):
            chunk = b"\0" * size
            while True:
                try:
                    if os.write(fd, chunk) < size:
                        break
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return filler


def unwritable(paths: list[Path], on: bool) -> None:
    for p in paths:
        if ROOT_USER:
            subprocess.run(["chattr", "+i" if on else "-i", str(p)], check=True)
        else:
            p.chmod(0o444 if on else 0o644)


def writes_succeed(client: Client, n: int, label: str) -> None:
    for i in range(n):
        status, _, body = client.create_case(f"{label} {i}")
        assert status == 201, (i, body)


def test_sqlite_disk_full(tmp_path):
    with small_disk(tmp_path / "disk", 16) as disk:
        url = f"sqlite:///{disk / 'gongzhi.sqlite3'}"
        prepare(url)
        db = Database(url)
        try:
            with serve(db, tmp_path) as site:
                client = Client(site.port)
                client.sign_in()
                writes_succeed(client, 2, "故障前")
                # The WAL is reused once checkpointed; empty it so the next write needs new space.
                with contextlib.closing(sqlite3.connect(disk / "gongzhi.sqlite3")) as raw:
                    assert raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
                filler = fill(disk)
                status, _, body = client.request("GET", "/ready")
                assert status == 503 and body["writes"] == "refused: disk_full", body
                for i in range(3):
                    status, headers, body = client.create_case(f"磁盘已满 {i}")
                    assert_refused_as_fault(status, headers, body, {"disk_full"})
                assert "存储空间已满" in body["message_zh"]
                status, _, listed = client.request("GET", "/cases")
                assert status == 200 and listed["total"] == 2  # reads still answer
                filler.unlink()
                writes_succeed(client, 8, "恢复后")
                status, _, body = client.request("GET", "/ready")
                assert status == 200 and body["writes"] == "ok", body
                status, _, listed = client.request("GET", "/cases")
                assert listed["total"] == 10
                client.close()
        finally:
            db.dispose()


def test_sqlite_read_only(tmp_path):
    path = tmp_path / "gongzhi.sqlite3"
    url = f"sqlite:///{path}"
    prepare(url)
    first = Database(url)
    # The database and its WAL, not the shared-memory index: a read-only -shm that SQLite maps can
    # kill the process with SIGBUS, which is not the fault under test.
    files = [path, Path(f"{path}-wal")]
    try:
        with serve(first, tmp_path) as site:  # a server that signs in and writes, then keeps the files open
            client = Client(site.port)
            client.sign_in()
            writes_succeed(client, 1, "故障前")
            token = client.token
            status, headers, session = client.request("POST", "/auth/session",
                                                      {"username": "gy_sthjj", "password": PASSWORD})
            assert status == 200
            cookie = "; ".join(client.cookies)
            client.close()
        assert all(p.exists() for p in files)
        unwritable(files, True)
        second = Database(url)  # a server (re)started while the files cannot be written
        try:
            with serve(second, tmp_path) as site:
                client = Client(site.port)
                client.token = token
                status, _, listed = client.request("GET", "/cases")
                assert status == 200 and listed["total"] == 1
                status, _, body = client.request("GET", "/ready")
                assert status == 503 and body["writes"] == "refused: read_only", body
                for i in range(3):
                    status, headers, body = client.create_case(f"只读 {i}")
                    assert_refused_as_fault(status, headers, body, {"read_only"})
                assert "只读" in body["message_zh"]
                # A person submitting a form is shown a page, with the request id to quote.
                client.token = None
                status, headers, html = client.request(
                    "POST", "/new/referral", headers={"Cookie": cookie, "Accept": "text/html",
                                                      "Content-Type": "application/x-www-form-urlencoded"},
                    body=None, form={"csrf_token": session["csrf_token"], "title": "表单提交", "problem": "垃圾"})
                text = html.decode()
                assert status == 503 and "暂时无法保存" in text and headers["x-request-id"] in text, text
                client.token = token
                unwritable(files, False)
                writes_succeed(client, 8, "恢复后")
                status, _, body = client.request("GET", "/ready")
                assert status == 200 and body["writes"] == "ok", body
                client.close()
        finally:
            second.dispose()
    finally:
        unwritable([p for p in files if p.exists()], False)
        first.dispose()


def _admin(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _terminate_sessions(admin, name: str) -> int:
    with admin.connect() as conn:
        return len(conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name}).all())


@pytest.mark.postgres_only
def test_postgresql_read_only(backend, fresh_url, tmp_path):
    url = fresh_url("postgresql")
    name = make_url(url).database
    prepare(url)
    admin = _admin(url)
    db = Database(url)
    try:
        with serve(db, tmp_path) as site:
            client = Client(site.port)
            client.sign_in()
            writes_succeed(client, 3, "故障前")
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
            assert _terminate_sessions(admin, name) >= 1  # the pool's sessions die (57P01): pre-ping replaces them
            status, _, body = client.request("GET", "/ready")
            assert status == 503 and body["writes"] == "refused: read_only", body

            # Many sessions opened during the fault: reads in parallel fill the pool with them.
            def read(_):
                c = Client(site.port)
                c.token = client.token
                try:
                    return c.request("GET", "/cases")[0]
                finally:
                    c.close()

            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(read, range(16))) == {200}
            for i in range(3):
                status, headers, body = client.create_case(f"只读 {i}")
                assert_refused_as_fault(status, headers, body, {"read_only"})
            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(read, range(16))) == {200}

            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
            writes_succeed(client, 12, "恢复后")  # more than the pool holds: each connection is exercised

            def write(i):
                c = Client(site.port)
                c.token = client.token
                try:
                    return c.create_case(f"并发恢复后 {i}")[0]
                finally:
                    c.close()

            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(write, range(24))) == {201}
            status, _, body = client.request("GET", "/ready")
            assert status == 200 and body["writes"] == "ok", body
            status, _, listed = client.request("GET", "/cases")
            assert listed["total"] == 3 + 12 + 24
            client.close()
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()


@pytest.mark.postgres_only
def test_postgresql_disk_full(backend, pg_server, tmp_path):
    admin = pg_server.admin
    with admin.connect() as conn:
        data_dir = conn.execute(text("SHOW data_directory")).scalar_one()
    if not Path(data_dir).is_dir():
        pytest.skip(f"the PostgreSQL server is not on this machine ({data_dir} is not here)")
    owner = Path(data_dir).owner()
    suffix = uuid.uuid4().hex[:8]
    space, name = f"gz_small_{suffix}", f"gongzhi_test_full_{suffix}"
    # The server's user must reach the folder: not under pytest's private temporary tree.
    mount_point = Path(tempfile.mkdtemp(prefix="gz-pgdisk-"))
    mount_point.chmod(0o755)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(mount_point.rmdir)
        disk = cleanup.enter_context(small_disk(mount_point, 48, owner=owner))
        with admin.connect() as conn:
            conn.execute(text(f"CREATE TABLESPACE {space} LOCATION '{disk}'"))
            conn.execute(text(f'CREATE DATABASE "{name}" TABLESPACE {space}'))
        url = pg_server.base.set(database=name).render_as_string(hide_password=False)
        db = None
        try:
            prepare(url)
            db = Database(url)
            with serve(db, tmp_path) as site:
                client = Client(site.port)
                client.sign_in()
                writes_succeed(client, 2, "故障前")
                filler = fill(disk)
                # A row that fits a page already on disk is still taken; one that needs a new page is not.
                refused = None
                for i in range(400):
                    status, headers, body = client.create_case(f"磁盘已满 {i}")
                    if status != 201:
                        refused = (status, headers, body)
                        break
                assert refused is not None, "400 writes fitted in pages already on disk"
                assert_refused_as_fault(*refused, {"disk_full"})
                filler.unlink()
                writes_succeed(client, 12, "恢复后")
                status, _, body = client.request("GET", "/ready")
                assert status == 200 and body["writes"] == "ok", body
                client.close()
        finally:
            if db is not None:
                db.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f"DROP TABLESPACE IF EXISTS {space}"))


def test_what_counts_as_a_fault_and_what_replaces_the_connection():
    import psycopg
    from psycopg import errors as pg
    from sqlalchemy import exc as sa_exc

    from db.session import fault_of, replaces_connection

    named = {pg.ReadOnlySqlTransaction(): "read_only", pg.DiskFull(): "disk_full", pg.AdminShutdown(): "shutdown",
             pg.CrashShutdown(): "shutdown", pg.CannotConnectNow(): "starting_up",
             psycopg.OperationalError("connection refused"): "disconnected", pg.DeadlockDetected(): "busy"}
    for exc, fault in named.items():
        assert fault_of(exc) == fault, exc
        wrapped = sa_exc.DBAPIError.instance("UPDATE cases ...", {}, exc, psycopg.Error)
        assert fault_of(wrapped) == fault
        assert replaces_connection(fault) is (fault != "busy")
    assert fault_of(pg.UniqueViolation()) is None  # a conflict in the data, not the database failing
    raw = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError) as missing:
        raw.execute("SELECT * FROM no_such_table")
    assert fault_of(missing.value) is None  # a bug, answered 500, not a fault
    raw.execute("PRAGMA query_only = ON")
    with pytest.raises(sqlite3.OperationalError) as read_only:
        raw.execute("CREATE TABLE t (x)")
    assert fault_of(read_only.value) == "read_only"
