"""Notices: what a person or unit is told, the channels it reaches them by, and every delivery attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import UTCDateTime


class Notice(Base):
    """An in-product notice, written in the transaction of the event that caused it. It is addressed
    to a unit (every account of the unit reads it) or to one account."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_unit", "unit_code", "id"),
        Index("ix_notices_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_force_code: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    history_seq: Mapped[int | None] = mapped_column(Integer)
    # the event or clock note that caused it (refer, deadline_warning, ...) and the rule that chose it
    cause: Mapped[str] = mapped_column(String(80))
    rule: Mapped[str] = mapped_column(String(80))
    unit_code: Mapped[str | None] = mapped_column(String(60))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NoticeRead(Base):
    __tablename__ = "notice_reads"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Channel(Base):
    """Where a unit's or an account's notices are also sent: e-mail, a 企业微信 or 钉钉 group robot,
    or a generic JSON webhook."""

    __tablename__ = "channels"
    __table_args__ = (Index("ix_channels_owner", "owner_kind", "owner"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_kind: Mapped[str] = mapped_column(String(10))  # unit | user
    owner: Mapped[str] = mapped_column(String(60))  # a unit code or a username
    kind: Mapped[str] = mapped_column(String(20))  # email | wecom | dingtalk | webhook
    target: Mapped[str] = mapped_column(String(500))  # an address or a URL
    secret: Mapped[str | None] = mapped_column(String(200))  # 钉钉's signing secret
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """One attempt to send a notice over an external channel: sent, failed, deferred or given up."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_target_at", "channel_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(20))  # sent | failed | deferred | gave_up
    detail: Mapped[str] = mapped_column(Text, default="")
