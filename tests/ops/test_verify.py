"""`gongzhi verify` checks the files too: every attachment and every archived document against its SHA-256."""

from __future__ import annotations

from sqlalchemy import update
from typer.testing import CliRunner

from api.cli import app as cli
from db.models import Document
from engine.attachments import BlobStore
from tests import tx
from tests.conftest import OFFICE
from tests.ops.files import archive, attach


def run_verify(db, attachments):
    url = db.url.render_as_string(hide_password=False)
    return CliRunner().invoke(cli, ["verify", "--database-url", url, "--attachments-dir", str(attachments)])


def test_a_missing_or_overwritten_attachment_fails_verify(cases, db, tmp_path):
    case = tx.start(cases, task_force="toy", workflow="ticket", actor=OFFICE, title="附件核验", payload={"summary": "s"})
    other = tx.start(cases, task_force="toy", workflow="ticket", actor=OFFICE, title="另一件", payload={"summary": "s"})
    folder = tmp_path / "attachments"
    kept = attach(db, folder, case.id, "第一份证据\n".encode())
    second = attach(db, folder, other.id, "第二份证据\n".encode())
    attach(db, folder, other.id, "第一份证据\n".encode(), filename="同一文件.txt")  # the same bytes, kept once
    ok = run_verify(db, folder)
    assert ok.exit_code == 0, ok.output
    assert "3 attachments and 0 archived documents match their SHA-256" in ok.output

    path = BlobStore(folder).path_of(kept)
    path.write_bytes("被改写的内容\n".encode())
    BlobStore(folder).path_of(second).unlink()
    broken = run_verify(db, folder)
    assert broken.exit_code == 1
    assert broken.output.count("(overwritten)") == 2  # both rows that name those bytes
    assert f"file {BlobStore(folder).path_of(second)} is missing" in broken.output
    assert "3 problem(s) in 2 cases, 3 attachments, 0 documents" in broken.output


def test_an_altered_archived_document_fails_verify(cases, db, tmp_path):
    case = tx.start(cases, task_force="toy", workflow="ticket", actor=OFFICE, title="公文核验", payload={"summary": "s"})
    doc = archive(db, case.id, b"%PDF-1.7 the letter as issued")
    archive(db, case.id, b"%PDF-1.7 another", serial=2)
    ok = run_verify(db, tmp_path)
    assert ok.exit_code == 0 and "0 attachments and 2 archived documents match" in ok.output, ok.output
    with db.write() as conn:  # the archive's bytes changed behind the product's back
        conn.execute(update(Document.__table__).where(Document.__table__.c.id == doc)
                     .values(content=b"%PDF-1.7 the letter as altered"))
    broken = run_verify(db, tmp_path)
    assert broken.exit_code == 1
    assert f"document {doc} (两湖专班办〔2026〕1号): archived bytes have SHA-256" in broken.output
    assert "1 problem(s)" in broken.output
