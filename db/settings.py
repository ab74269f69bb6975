"""Settings from environment variables, in one class (prefix GONGZHI_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob gongzhi reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="GONGZHI_", extra="ignore")

    data_dir: Path = Path("data")
    # Empty means the embedded default: SQLite in data_dir.
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    timezone: str = "Asia/Shanghai"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gongzhi.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
