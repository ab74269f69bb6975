"""Evidence files: checked (size, real type), stored content-addressed, recorded against a case."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection

from db.repositories import attachments as repo
from db.repositories.attachments import AttachmentRow
from engine.access import CaseAccess
from engine.clock import Clock
from engine.errors import EngineError, NotFound

_CHUNK = 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TooLarge(EngineError):
    code = "payload_too_large"
    message_zh = "文件过大"


class UnsupportedType(EngineError):
    code = "unsupported_media_type"
    message_zh = "不支持的文件类型"


class NotContributor(EngineError):
    """The viewer may read the case but holds no role on it that acts."""

    code = "not_contributor"
    message_zh = "您的单位在本案件中没有可办理的角色，不能上传材料"


def sniff(path: Path, filename: str) -> str:
    """The media type the bytes really are; the client's Content-Type is not trusted."""
    with path.open("rb") as f:
        head = f.read(8192)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                members = z.infolist()
                names = {m.filename for m in members}
                _check_expansion(z, members, path.stat().st_size)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, zlib.error):
            return "application/octet-stream"  # broken, encrypted or of an unknown compression: no office file
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
        return "application/zip"
    if b"\x00" not in head and _utf8_text(path):
        return "text/csv" if filename.lower().endswith(".csv") else "text/plain"
    return "application/octet-stream"


# An office file expands to a few times its size (the XML compresses ~5-20×); a zip bomb to thousands of
# times. Whoever opens the evidence (a clerk's Word, an indexer) unpacks it: refuse what would expand past
# these, judged from the zip's directory alone — the sizes it declares, which an honest file states.
MAX_EXPANDED = 200 * 1024 * 1024
MAX_RATIO = 100
MAX_MEMBERS = 10_000


class ZipBomb(EngineError):
    code = "zip_bomb"
    message_zh = "压缩文件展开后过大，疑似压缩炸弹，已拒收"


def _check_expansion(z: zipfile.ZipFile, members: list[zipfile.ZipInfo], size: int) -> None:
    """ZipBomb when the archive would expand past the limits: first by the sizes its directory declares,
    then by inflating it (counted, never written) — a directory may lie about sizes."""
    cap = min(MAX_EXPANDED, MAX_RATIO * max(size, 64 * 1024))
    declared = sum(m.file_size for m in members)
    if len(members) > MAX_MEMBERS or declared > cap:
        raise ZipBomb(f"the archive declares {declared} bytes in {len(members)} members from {size} bytes",
                      expanded=declared, members=len(members), size=size, limit=cap)
    inflated = 0
    for member in members:
        with z.open(member) as f:
            while chunk := f.read(_CHUNK):
                inflated += len(chunk)
                if inflated > cap:
                    raise ZipBomb(f"the archive expands past {cap} bytes from {size} bytes",
                                  expanded=inflated, members=len(members), size=size, limit=cap)


def _utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                if b"\x00" in chunk:
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def clean_filename(name: str | None) -> str:
    """A file name without folders or control characters, at most 200 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:200] or "attachment"


@dataclass(frozen=True)
class BlobStore:
    """Files named by their SHA-256 under one folder; the same bytes are kept once."""

    root: Path

    def path_of(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a SHA-256")
        return self.root / sha256[:2] / sha256

    def receive(self, source: BinaryIO, max_bytes: int) -> tuple[Path, str, int]:
        """Copy a stream to a temporary file, hashing it; TooLarge past max_bytes."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"the file is larger than {max_bytes} bytes", limit=max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            os.unlink(tmp)
            raise
        return Path(tmp), digest.hexdigest(), size

    def keep(self, tmp: Path, sha256: str) -> None:
        """Move a received file to its place (or drop it when those bytes are already kept)."""
        final = self.path_of(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)


@dataclass(frozen=True)
class Received:
    """An upload checked and hashed, waiting in a temporary file for its case row."""

    tmp: Path
    sha256: str
    size: int
    media_type: str
    filename: str

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)


class Attachments:
    """Adding and finding evidence files on cases a viewer may see.

    The bytes are received and checked before the write transaction (SQLite has one writer: a
    20 MB copy must not hold it); the row is written, and the file kept, inside it.
    """

    def __init__(self, store: BlobStore, clock: Clock, *, max_bytes: int, types: tuple[str, ...]) -> None:
        self.store, self.clock, self.max_bytes, self.types = store, clock, max_bytes, frozenset(types)

    def receive(self, source: BinaryIO, filename: str | None) -> Received:
        name = clean_filename(filename)
        tmp, sha, size = self.store.receive(source, self.max_bytes)
        try:
            media_type = sniff(tmp, name)
        except ZipBomb:
            tmp.unlink(missing_ok=True)
            raise
        if media_type not in self.types:
            tmp.unlink(missing_ok=True)
            raise UnsupportedType(f"{media_type} files are not accepted; accepted: {', '.join(sorted(self.types))}",
                                  media_type=media_type, accepted=sorted(self.types))
        return Received(tmp, sha, size, media_type, name)

    def add(self, conn: Connection, access: CaseAccess, case_id: int, received: Received,
            description: str = "") -> AttachmentRow:
        case = access.load(conn, case_id)
        if not access.may_contribute(conn, case):
            raise NotContributor(f"unit {access.viewer.unit} holds no acting role on case {case.number}")
        row = repo.insert_attachment(
            conn, case_id=case.id, sha256=received.sha256, size=received.size, media_type=received.media_type,
            filename=received.filename, description=description, uploaded_by=access.viewer.id,
            uploader_unit=access.viewer.unit, history_seq=case.version, uploaded_at=self.clock.now())
        # Kept before commit: a rollback leaves an unreferenced file, never a row without its bytes.
        self.store.keep(received.tmp, received.sha256)
        return row

    def of_case(self, conn: Connection, access: CaseAccess, case_id: int) -> list[AttachmentRow]:
        access.load(conn, case_id)
        return repo.of_case(conn, case_id)

    def get(self, conn: Connection, access: CaseAccess, case_id: int,
            attachment_id: int) -> tuple[AttachmentRow, Path]:
        access.load(conn, case_id)
        row = repo.get(conn, case_id, attachment_id)
        if row is None:
            raise NotFound(f"attachment {attachment_id} of case {case_id} not found", attachment_id=attachment_id)
        return row, self.store.path_of(row.sha256)
