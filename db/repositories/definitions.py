"""Published definitions: look-ups by id and by (task force, name, version)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from db.models import Definition

_t = Definition.__table__


def spec_of(conn: Connection, definition_id: int) -> tuple[dict[str, Any], str] | None:
    row = conn.execute(select(_t.c.spec, _t.c.source_path).where(_t.c.id == definition_id)).first()
    return (row[0], row[1]) if row else None


def row_of(conn: Connection, definition_id: int) -> tuple[str, str, int] | None:
    """(task force, name, version) of a published definition."""
    row = conn.execute(select(_t.c.task_force_code, _t.c.name, _t.c.version).where(_t.c.id == definition_id)).first()
    return (row[0], row[1], row[2]) if row else None


def find(conn: Connection, task_force: str, name: str, version: int | None = None):
    stmt = select(_t.c.id, _t.c.version, _t.c.content_hash).where(_t.c.task_force_code == task_force, _t.c.name == name)
    if version is None:
        stmt = stmt.where(
            _t.c.version == select(func.max(_t.c.version)).where(
                _t.c.task_force_code == task_force, _t.c.name == name).scalar_subquery()
        )
    else:
        stmt = stmt.where(_t.c.version == version)
    return conn.execute(stmt).first()


def insert_definition(conn: Connection, *, task_force: str, name: str, version: int, title: str,
                      content_hash: str, spec: dict[str, Any], source_path: str, at: datetime) -> int:
    return conn.execute(insert(_t).returning(_t.c.id), {
        "task_force_code": task_force, "name": name, "version": version, "title": title,
        "content_hash": content_hash, "spec": spec, "source_path": source_path, "published_at": at,
    }).scalar_one()


def list_all(conn: Connection):
    return conn.execute(select(_t.c.id, _t.c.task_force_code, _t.c.name, _t.c.version, _t.c.title,
                               _t.c.content_hash).order_by(_t.c.task_force_code, _t.c.name, _t.c.version)).all()


def content_hash_of(conn: Connection, definition_id: int) -> str | None:
    """The content hash of a published definition: a key for caching what is compiled from it."""
    return conn.execute(select(_t.c.content_hash).where(_t.c.id == definition_id)).scalar_one_or_none()
def ids_of_task_force(conn: Connection, task_force: str) -> list[int]:
    return [r.id for r in of_task_force(conn, task_force)]


def of_task_force(conn: Connection, task_force: str):
    """Every published version of the task force's definitions, by name then version."""
    return conn.execute(select(_t.c.id, _t.c.task_force_code, _t.c.name, _t.c.version, _t.c.title, _t.c.content_hash)
                        .where(_t.c.task_force_code == task_force).order_by(_t.c.name, _t.c.version)).all()
