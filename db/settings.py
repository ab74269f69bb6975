"""Settings from environment variables, in one class (prefix GONGZHI_)."""

from __future__ import annotations

import os
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Evidence files people actually send: scans, photos, office files, plain text and spreadsheets.
DEFAULT_ATTACHMENT_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


# The one zone gongzhi shows (engine.localtime.LOCAL_TZ); db does not import the engine.
_LOCAL_ZONE = "Asia/Shanghai"


class Settings(BaseSettings):
    """Every knob gongzhi reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="GONGZHI_", extra="ignore")

    # development | test | production: production refuses settings only fit for a laptop.
    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    # Empty means the embedded default: SQLite in data_dir.
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000

    # --- accounts and sessions
    token_ttl_hours: int = Field(12, ge=1, le=24 * 30)
    # Session cookies only over HTTPS; off by default so the embedded server works on 127.0.0.1.
    cookie_secure: bool = False
    # argon2 cost profile: "rfc9106_low_memory" (the argon2-cffi default) or "cheapest", which
    # exists for test suites that create many accounts and is refused in production.
    password_profile: Literal["default", "cheapest"] = "default"

    # --- requests
    max_json_bytes: int = Field(1024 * 1024, ge=1024)
    attachment_max_bytes: int = Field(20 * 1024 * 1024, ge=1)
    attachment_types: tuple[str, ...] = DEFAULT_ATTACHMENT_TYPES
    # Empty means data_dir/attachments.
    attachments_dir: Path | None = None
    idempotency_ttl_hours: int = Field(24, ge=1)

    # --- operations
    # Server processes. 0 chooses by database: one on SQLite (a single writer; more processes would
    # only queue on its file lock), one per core on PostgreSQL (a request spends most of its time in
    # Python, which one process runs on one core at a time).
    workers: int = Field(0, ge=0, le=64)
    # The background work (clock, documents, notices) in the server process: `gongzhi serve` turns it
    # on unless --no-background; an app built in tests has none unless asked.
    background: bool = False
    # Seconds between rounds of each background task.
    clock_interval: float = Field(15.0, gt=0)
    documents_interval: float = Field(2.0, gt=0)
    notices_interval: float = Field(1.0, gt=0)
    # /ready answers 503 when a background task's newest heartbeat is older than this (a round
    # writes one; a few missed rounds mean the work has stopped keeping up).
    heartbeat_stale_seconds: int = Field(90, ge=5)
    log_level: str = "INFO"
    log_json: bool = True

    # --- notices over external channels (api/notify/)
    # Links in e-mails and robot messages are made absolute with this address of the site.
    public_base_url: str = "http://127.0.0.1:8000"
    # Empty smtp_host: e-mail channels cannot send (each such delivery is given up, with the reason).
    smtp_host: str = ""
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = ""
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False  # upgrade a plain connection (port 587)
    smtp_ssl: bool = False  # TLS from the first byte (port 465)
    smtp_timeout: float = Field(10.0, gt=0, le=120)
    # Robots and webhooks answer in well under a second; a send must stay far inside the lease.
    notify_http_timeout: float = Field(5.0, gt=0, le=60)
    # At most this many notices per channel per Beijing day (0: no cap); the rest wait for the next morning.
    notify_daily_cap: int = Field(30, ge=0)
    # Beijing time; with quiet hours on, channels send only in these hours of working days.
    notify_work_hours: str = Field("08:30-18:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
    notify_quiet_hours: bool = True
    # Attempts per notice before it is given up (kept as failed, listed, never dropped).
    notify_max_attempts: int = Field(6, ge=1, le=50)
    notify_backoff_seconds: int = Field(60, ge=1)  # the n-th retry waits 2^(n-1) times this
    # How long a worker holds a notice it is sending; a worker that dies mid-send leaves it held this long.
    notify_lease_seconds: int = Field(600, ge=1, le=86400)

    @model_validator(mode="before")
    @classmethod
    def _refuse_timezone(cls, data: Any) -> Any:
        # There was a GONGZHI_TIMEZONE that nothing read; the product shows Beijing time by design
        # (engine/localtime.py), so a deployment that set another zone is told so rather than ignored.
        given = (data.get("timezone") if isinstance(data, dict) else None) or os.environ.get("GONGZHI_TIMEZONE")
        if given is not None and given != _LOCAL_ZONE:
            raise ValueError(
                f"GONGZHI_TIMEZONE={given!r} 不再读取：共治始终按北京时间（{_LOCAL_ZONE}）显示和计算时间，与服务器时区无关；"
                f"请删除该设置 / GONGZHI_TIMEZONE is no longer read: gongzhi always shows and counts time in "
                f"Beijing time ({_LOCAL_ZONE}) whatever the server's zone; remove the setting")
        return data

    @model_validator(mode="after")
    def _check_notify(self) -> Settings:
        if self.smtp_ssl and self.smtp_starttls:
            raise ValueError("GONGZHI_SMTP_SSL and GONGZHI_SMTP_STARTTLS exclude each other: choose one")
        start, _, end = self.notify_work_hours.partition("-")
        if start >= end:  # "HH:MM" strings compare as times
            raise ValueError("GONGZHI_NOTIFY_WORK_HOURS must start before it ends, e.g. 08:30-18:00")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production":
            if self.password_profile != "default":
                raise ValueError("GONGZHI_PASSWORD_PROFILE=cheapest is for tests; production needs the default")
            if not self.cookie_secure:
                raise ValueError("GONGZHI_COOKIE_SECURE must be true in production (session cookies over HTTPS)")
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gongzhi.sqlite3').resolve()}"

    def resolved_workers(self, database_url: str | None = None) -> int:
        if self.workers:
            return self.workers
        url = database_url or self.resolved_database_url()
        return 1 if url.startswith("sqlite") else max(1, os.cpu_count() or 1)

    def work_hours(self) -> tuple[time, time]:
        """notify_work_hours as (start, end), Beijing time."""
        start, _, end = self.notify_work_hours.partition("-")
        return time.fromisoformat(start), time.fromisoformat(end)

    def resolved_attachments_dir(self) -> Path:
        return (self.attachments_dir or self.data_dir / "attachments").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
