"""Evidence files on a case."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from db.repositories.attachments import AttachmentRow


class AttachmentRead(BaseModel):
    id: int
    case_id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    description: str
    uploaded_by: str
    uploader_unit: str | None
    history_seq: int
    uploaded_at: datetime
    download_url: str

    @classmethod
    def of(cls, a: AttachmentRow) -> AttachmentRead:
        return cls(id=a.id, case_id=a.case_id, filename=a.filename, media_type=a.media_type, size=a.size,
                   sha256=a.sha256, description=a.description, uploaded_by=a.uploaded_by,
                   uploader_unit=a.uploader_unit, history_seq=a.history_seq, uploaded_at=a.uploaded_at,
                   download_url=f"/cases/{a.case_id}/attachments/{a.id}")
