"""Backups, restores, and the file checks of `gongzhi verify`.

A backup is a folder:

    gongzhi.sqlite3 | gongzhi.pgdump   the database (archived documents are inside it: documents.content)
    attachments/ab/abcdef...           the evidence files, content-addressed as in the live folder
    manifest.json                      what was copied, when, from which backend

SQLite is copied through sqlite3's online backup API in one step: it reads one snapshot of the
database (a WAL reader blocks no writer), so a server may keep writing meanwhile, and the copy holds
every transaction committed before the backup began. PostgreSQL is copied by `pg_dump -Fc` (one
snapshot too). The attachments are copied after the database: a file is kept before its row commits
(engine/attachments.py) and never removed, so every file the copied rows name is there to copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from db.repositories import operations as ops_repo
from db.session import Database
from engine.attachments import BlobStore

SQLITE_FILE = "gongzhi.sqlite3"
PG_FILE = "gongzhi.pgdump"
MANIFEST = "manifest.json"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""


@dataclass
class Report:
    backend: str
    database_file: Path
    attachments: int = 0
    attachment_bytes: int = 0
    notes: list[str] = field(default_factory=list)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as pg_dump and pg_restore take it (no driver name), and their environment:
    a password goes in PGPASSWORD, not on a command line every user's `ps` shows."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _blobs(root: Path):
    """(relative path, file) of every kept file: two hex characters / 64 hex characters."""
    if not root.is_dir():
        return
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and len(p.name) == 2):
        for f in sorted(sub.iterdir()):
            if f.is_file() and len(f.name) == 64 and f.name.startswith(sub.name):
                yield f"{sub.name}/{f.name}", f


def _copy_attachments(source: Path, dest: Path, report: Report) -> None:
    for rel, f in _blobs(source):
        target = dest / rel
        if target.exists() and target.stat().st_size == f.stat().st_size:
            continue  # content-addressed: the same name holds the same bytes
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        shutil.copyfile(f, tmp)
        os.replace(tmp, target)
        report.attachments += 1
        report.attachment_bytes += target.stat().st_size


def backup(url: str, attachments_dir: Path, dest: Path) -> Report:
    """Copy the database and the attachments into `dest` (a new or empty folder)."""
    parsed = make_url(url)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: back up into a new folder")
    dest.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    if parsed.get_backend_name() == "sqlite":
        source = _sqlite_path(parsed)
        if not source.is_file():
            raise BackupError(f"no database at {source}")
        report = Report("sqlite", dest / SQLITE_FILE)
        tmp = dest / f".{SQLITE_FILE}.part"
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            out = sqlite3.connect(tmp)
            try:
                src.backup(out)  # all pages in one step: one consistent snapshot
                out.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
            finally:
                out.close()
        finally:
            src.close()
        os.replace(tmp, report.database_file)
    else:
        report = Report("postgresql", dest / PG_FILE)
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
        dsn, env = _libpq(parsed)
        done = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--file", str(report.database_file),
                               "--dbname", dsn], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    _copy_attachments(attachments_dir, dest / "attachments", report)
    manifest = {"backend": report.backend, "database": report.database_file.name, "started_at": started.isoformat(),
                "finished_at": datetime.now(UTC).isoformat(), "database_sha256": _sha256(report.database_file),
                "attachments": report.attachments, "attachment_bytes": report.attachment_bytes}
    (dest / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


def restore(source: Path, url: str, attachments_dir: Path, *, force: bool = False) -> Report:
    """Put a backup in place: the database at `url`, the files into `attachments_dir`.
    Run it with the server and workers stopped; an existing database is replaced only with force."""
    parsed = make_url(url)
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{source} holds no {MANIFEST}: not a gongzhi backup")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    backend = parsed.get_backend_name()
    if manifest["backend"] != backend:
        raise BackupError(f"the backup is of a {manifest['backend']} database; {url!r} is {backend}")
    database_file = source / manifest["database"]
    if _sha256(database_file) != manifest["database_sha256"]:
        raise BackupError(f"{database_file} does not match the SHA-256 its manifest recorded: the backup is damaged")
    report = Report(backend, database_file)
    if backend == "sqlite":
        target = _sqlite_path(parsed)
        if target.exists() and not force:
            raise BackupError(f"{target} exists; stop the server, then restore with --force to replace it")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.restore-")
        os.close(fd)
        src = sqlite3.connect(f"{database_file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            out = sqlite3.connect(tmp_name)
            try:
                src.backup(out)
            finally:
                out.close()
        finally:
            src.close()
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            stale.unlink(missing_ok=True)  # the old database's log must not be replayed onto the new one
        os.replace(tmp_name, target)
    else:
        db = Database(url)
        try:
            with db.read() as conn:
                populated = conn.exec_driver_sql(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").scalar_one()
        finally:
            db.dispose()
        if populated and not force:
            raise BackupError(f"the database at {parsed.render_as_string(hide_password=True)} has {populated} tables; "
                              "stop the servers and workers, then restore with --force to replace them")
        pg_restore = shutil.which("pg_restore")
        if pg_restore is None:
            raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
        dsn, env = _libpq(parsed)
        args = [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction", "--dbname", dsn]
        if populated:
            args[1:1] = ["--clean", "--if-exists"]
        done = subprocess.run([*args, str(database_file)], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    _copy_attachments(source / "attachments", attachments_dir, report)
    return report


def check_files(db: Database, attachments_dir: Path) -> tuple[list[str], int, int]:
    """Every attachment's file and every archived document against the SHA-256 recorded for it:
    (problems, attachments checked, documents checked)."""
    store = BlobStore(attachments_dir)
    problems: list[str] = []
    hashed: dict[str, tuple[str, int] | None] = {}  # the same bytes may back several attachments
    attachments = documents = 0
    with db.read() as conn:
        rows = list(ops_repo.attachment_hashes(conn))
        ids = ops_repo.document_ids(conn)
    for attachment_id, case_id, sha, size, filename in rows:
        attachments += 1
        if sha not in hashed:
            path = store.path_of(sha)
            hashed[sha] = (_sha256(path), path.stat().st_size) if path.is_file() else None
        found = hashed[sha]
        where = f"attachment {attachment_id} of case {case_id} ({filename})"
        if found is None:
            problems.append(f"{where}: file {store.path_of(sha)} is missing")
        elif found[0] != sha:
            problems.append(f"{where}: file {store.path_of(sha)} has SHA-256 {found[0]}, recorded {sha} (overwritten)")
        elif found[1] != size:
            problems.append(f"{where}: file has {found[1]} bytes, recorded {size}")
    for document_id in ids:
        with db.read() as conn:  # one document's bytes in memory at a time
            number, sha, size, content = ops_repo.document_content(conn, document_id)
        documents += 1
        actual = hashlib.sha256(content or b"").hexdigest()
        if actual != sha:
            problems.append(f"document {document_id} ({number}): archived bytes have SHA-256 {actual}, recorded {sha}")
        elif len(content) != size:
            problems.append(f"document {document_id} ({number}): archived {len(content)} bytes, recorded {size}")
    return problems, attachments, documents
