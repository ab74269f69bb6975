"""Settings from environment variables, in one class (prefix GONGZHI_)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

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
    timezone: str = "Asia/Shanghai"

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

    def resolved_attachments_dir(self) -> Path:
        return (self.attachments_dir or self.data_dir / "attachments").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
