"""Configuring channels: what the CLI and the office page both call, with the same checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from api.notify.channels import validate
from db.repositories import channels as repo

OWNER_KINDS = {"unit": "单位", "user": "账号"}


class ChannelRefused(Exception):
    """A channel that cannot be saved as typed: field -> a Chinese message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def add_channel(conn: Connection, *, owner_kind: str, owner: str, kind: str, target: str, secret: str | None,
                now: datetime, allowed_owners: tuple[set[str], set[str]] | None = None) -> int:
    """Check and save a channel; its id. `allowed_owners` (units, usernames) limits whom an office may
    configure to its own task force."""
    owner, target, secret = (owner or "").strip(), (target or "").strip(), (secret or "").strip()
    errors = validate(kind, target, secret)
    if owner_kind not in OWNER_KINDS:
        errors["owner"] = "请选择单位或账号"
    elif not owner:
        errors["owner"] = "请选择接收通知的单位或账号"
    elif owner_kind == "unit" and (not repo.unit_exists(conn, owner)
                                   or (allowed_owners is not None and owner not in allowed_owners[0])):
        errors["owner"] = f"没有单位“{owner}”"
    elif owner_kind == "user" and (not repo.username_exists(conn, owner)
                                   or (allowed_owners is not None and owner not in allowed_owners[1])):
        errors["owner"] = f"没有账号“{owner}”"
    if errors:
        raise ChannelRefused(errors)
    return repo.add(conn, owner_kind=owner_kind, owner=owner, kind=kind, target=target, secret=secret or None,
                    now=now)
