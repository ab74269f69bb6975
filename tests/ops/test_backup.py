"""`gongzhi backup` while a server writes, `gongzhi restore`, and `gongzhi verify` on what came back."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app as cli
from db.models import Case
from db.session import Database
from engine.actors import Actor
from engine.bootstrap import init_database
from engine.cases import Cases
from tests import tx
from tests.ops.files import archive, attach
from workflows import ROOT

OFFICE = Actor.of("o", "two_lakes_office", "office")


def referral(cases: Cases, title: str) -> int:
    case = tx.start(cases, task_force="two_lakes", workflow="referral", actor=OFFICE, title=title,
                    payload={"problem": "沿岸堆放生活垃圾", "cross_city": False})
    tx.fire(cases, case, "refer", OFFICE, {"receiver": "gy_qz_gov", "reason": "属地管理"})
    return case.id


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def case_states(url: str) -> dict[int, str]:
    db = Database(url)
    try:
        with db.read() as conn:
            return dict(conn.execute(select(Case.id, Case.state)).all())
    finally:
        db.dispose()


def test_a_sqlite_backup_taken_while_a_server_writes_restores_and_verifies(fresh_url, tmp_path):
    url = fresh_url("sqlite")
    db = Database(url)
    init_database(db, ROOT)
    cases = Cases(db)
    live_files = tmp_path / "attachments"
    first = referral(cases, "带附件的移送")
    attach(db, live_files, first, "现场照片（文字版）\n".encode())
    archive(db, first, b"%PDF-1.7 letter")
    committed: list[int] = [first]
    failures: list[BaseException] = []
    stop = threading.Event()

    def server() -> None:  # a writer like the embedded server's: one event after another, each committed
        n = 0
        while not stop.is_set():
            try:
                committed.append(referral(cases, f"备份期间的移送 {n}"))
            except BaseException as exc:  # the test fails on it below
                failures.append(exc)
                return
            n += 1

    writer = threading.Thread(target=server)
    writer.start()
    try:
        while len(committed) < 30:
            time.sleep(0.01)
        before = list(committed)  # every commit made before the backup starts
        dest = tmp_path / "backup-1"
        result = invoke("backup", str(dest), "--database-url", url, "--attachments-dir", str(live_files))
        during = len(committed)
        time.sleep(0.2)
    finally:
        stop.set()
        writer.join()
        db.dispose()
    assert not failures, failures
    assert result.exit_code == 0, result.output
    assert "备份完成" in result.output and "1 attachment files" in result.output
    assert len(committed) > during >= len(before)  # the server kept writing through and after it
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["backend"] == "sqlite" and manifest["database"] == "gongzhi.sqlite3"
    assert not (dest / "gongzhi.sqlite3-wal").exists()  # one self-contained file

    restored_url = f"sqlite:///{tmp_path / 'restored' / 'gongzhi.sqlite3'}"
    restored_files = tmp_path / "restored" / "attachments"
    result = invoke("restore", str(dest), "--database-url", restored_url, "--attachments-dir", str(restored_files))
    assert result.exit_code == 0, result.output
    states = case_states(restored_url)
    assert set(before) <= set(states) and all(states[i] == "referred" for i in before)
    assert len(states) <= len(committed)
    verified = invoke("verify", "--database-url", restored_url, "--attachments-dir", str(restored_files))
    assert verified.exit_code == 0, verified.output
    assert f"OK: {len(states)} cases" in verified.output and "1 attachments and 1 archived documents" in verified.output

    again = invoke("restore", str(dest), "--database-url", restored_url, "--attachments-dir", str(restored_files))
    assert again.exit_code == 2 and "--force" in again.output  # an existing database is not replaced by accident
    assert invoke("backup", str(dest), "--database-url", url).exit_code == 1  # nor a backup overwritten


@pytest.mark.postgres_only
def test_a_postgresql_backup_goes_through_pg_dump_and_restores(backend, fresh_url, tmp_path):
    url = fresh_url("postgresql")
    db = Database(url)
    try:
        init_database(db, ROOT)
        cases = Cases(db)
        ids = [referral(cases, f"移送 {i}") for i in range(5)]
        attach(db, tmp_path / "attachments", ids[0], "证据\n".encode())
        archive(db, ids[1], b"%PDF-1.7 letter")
    finally:
        db.dispose()
    dest = tmp_path / "backup"
    result = invoke("backup", str(dest), "--database-url", url, "--attachments-dir", str(tmp_path / "attachments"))
    assert result.exit_code == 0, result.output
    assert (dest / "gongzhi.pgdump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    target = fresh_url("postgresql")
    files = tmp_path / "restored-attachments"
    result = invoke("restore", str(dest), "--database-url", target, "--attachments-dir", str(files))
    assert result.exit_code == 0, result.output
    assert case_states(target) == {i: "referred" for i in ids}
    verified = invoke("verify", "--database-url", target, "--attachments-dir", str(files))
    assert verified.exit_code == 0 and "OK: 5 cases" in verified.output, verified.output
    assert "1 attachments and 1 archived documents" in verified.output

    refused = invoke("restore", str(dest), "--database-url", target, "--attachments-dir", str(files))
    assert refused.exit_code == 2 and "--force" in refused.output
    forced = invoke("restore", str(dest), "--force", "--database-url", target, "--attachments-dir", str(files))
    assert forced.exit_code == 0, forced.output
    assert invoke("verify", "--database-url", target, "--attachments-dir", str(files)).exit_code == 0
