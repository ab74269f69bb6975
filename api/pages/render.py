"""One Jinja2 environment for the pages (autoescape on), and how dates and deadlines read in Chinese.

Times read in Beijing time by `engine.localtime`'s rules: a recorded time without a zone is Beijing time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.pages.forms import item_rows
from engine.localtime import local_date, zh_date, zh_datetime
from engine.thumbnails import IMAGE_TYPES, PREVIEWABLE

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def days_left(due: datetime | None, now: datetime) -> int | None:
    """Calendar days from today to the due day (Asia/Shanghai); negative when overdue."""
    if due is None:
        return None
    return (local_date(due) - local_date(now)).days


def days_text(days: int | None) -> str:
    if days is None:
        return "无期限"
    if days < 0:
        return f"已逾期{-days}天"
    if days == 0:
        return "今天到期"
    return f"剩余{days}天"


env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
env.filters.update(zh_date=zh_date, zh_datetime=zh_datetime, days_text=days_text)
env.globals.update(item_rows=item_rows, image_types=IMAGE_TYPES, previewable=PREVIEWABLE)


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; the header reads `me` (None on public pages)."""
    context.setdefault("me", getattr(request.state, "page_me", None))
    context.setdefault("csrf", getattr(request.state, "page_csrf", ""))
    return HTMLResponse(env.get_template(template).render(request=request, **context), status_code=status)
