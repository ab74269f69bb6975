"""Generic effects that record case data."""

from __future__ import annotations

from datetime import UTC, datetime

from engine import registry
from engine.actors import Actor
from engine.context import FireContext


def context(payload, data):
    return FireContext(None, 1, "a", "a", "e", Actor.of("x", "u"), payload, datetime(2026, 3, 2, tzinfo=UTC), data,
                       {}, None)


def test_append_item_adds_one_item_per_event():
    append = registry.effects()["append_item"]
    assert append.required == {"key", "fields"}
    ctx = context({"text": "加密监测", "due": "2026-04-30", "other": 1}, {"decisions": [{"text": "第一项"}]})
    append.fn(ctx, key="decisions", fields=["text", "responsible_unit", "due"])
    # Only the named fields that the payload carries; earlier items stay as they were.
    assert ctx.data["decisions"] == [{"text": "第一项"}, {"text": "加密监测", "due": "2026-04-30"}]
    assert ctx.changed_data == {"decisions": ctx.data["decisions"]}
    empty = context({}, {})
    append.fn(empty, key="decisions", fields=["text"])
    assert empty.changed_data == {}
