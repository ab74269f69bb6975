"""An attachment and an archived document on a case, written as the services write them."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from db.models import Document
from db.repositories import attachments as attachments_repo
from engine.attachments import BlobStore


def attach(db, attachments_dir: Path, case_id: int, content: bytes, filename: str = "现场照片.txt") -> str:
    store = BlobStore(attachments_dir)
    tmp, sha, size = store.receive(io.BytesIO(content), 1 << 20)
    with db.write() as conn:
        attachments_repo.insert_attachment(
            conn, case_id=case_id, sha256=sha, size=size, media_type="text/plain", filename=filename,
            description="", uploaded_by="user:1", uploader_unit=None, history_seq=1,
            uploaded_at=datetime(2026, 3, 2, tzinfo=UTC))
        store.keep(tmp, sha)
    return sha


def archive(db, case_id: int, content: bytes, serial: int = 1) -> int:
    with db.write() as conn:
        return conn.execute(insert(Document.__table__).returning(Document.__table__.c.id), {
            "case_id": case_id, "history_seq": serial, "kind": "referral_letter", "origin": "issued",
            "issuer": "两湖专班办", "issuer_unit": None, "year": 2026, "serial": serial, "number": f"两湖专班办〔2026〕{serial}号",
            "title": "移送函", "template_version": "t1", "media_type": "application/pdf",
            "sha256": hashlib.sha256(content).hexdigest(), "size": len(content), "content": content,
            "created_at": datetime(2026, 3, 2, tzinfo=UTC)}).scalar_one()
