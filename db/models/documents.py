"""The document archive: every issued document (and every received one kept as evidence), byte for byte."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import UTCDateTime


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        # A document number is issued once: gap-free serials per issuer (机关代字) and year.
        # Received documents carry the sender's number and no serial of ours (NULLs never clash).
        UniqueConstraint("issuer", "year", "serial"),
        # One history row issues a kind once, however often its outbox item is retried.
        UniqueConstraint("case_id", "history_seq", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # No cascade: an issued document outlives any attempt to delete its case.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    history_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    # issued (rendered and numbered here) | received (a copy served on us, kept as evidence)
    origin: Mapped[str] = mapped_column(String(20))
    issuer: Mapped[str] = mapped_column(String(80))
    issuer_unit: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    template_version: Mapped[str | None] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
