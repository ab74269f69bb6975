"""Evidence files on a case."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel

from db.repositories.attachments import AttachmentRow


class AttachmentRecord(BaseModel):
    """What is recorded of an evidence file (also its entry in a case export)."""

    id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    description: str
    uploaded_by: str
    uploader_unit: str | None
    history_seq: int
    uploaded_at: datetime


class AttachmentRead(AttachmentRecord):
    case_id: int
    download_url: str

    @classmethod
    def of(cls, a: AttachmentRow) -> AttachmentRead:
        return cls(**asdict(a), download_url=f"/cases/{a.case_id}/attachments/{a.id}")
