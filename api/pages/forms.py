"""Forms generated from a definition's field specs: one widget per field type, and the posted form back
into the payload the engine takes — with a message per field and every typed value kept on refusal."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.definition import LIST_LIMIT, FieldSpec
from engine.localtime import aware, moment_of, to_local

ITEM_ROWS = 3  # an `items` field draws at least this many rows (a page without script adds none)
REQUIRED = "此项必填"
NUL = "不能包含空字符（NUL）"
# The same bounds the API's schemas set for a case's own title and description.
TITLE_LIMIT = 300
DESCRIPTION_LIMIT = 20_000
INTEGER_LIMIT = 2**53
_INTEGER = re.compile(r"[+-]?[0-9]{1,16}")
_VERSION = re.compile(r"[0-9]{1,10}")


def too_long(limit: int) -> str:
    return f"不能超过{limit}个字"


def text_error(text: str, limit: int | None) -> str | None:
    """What is wrong with a typed text, in the words the form shows: the checks the API's schemas make."""
    if "\x00" in text:
        return NUL
    if limit is not None and len(text) > limit:
        return too_long(limit)
    return None


def version_of(raw: Mapping[str, Any]) -> tuple[int | None, bool]:
    """The case version the form was drawn at, and whether what was sent is one (ASCII digits only:
    str.isdigit() accepts "²", which int() refuses)."""
    sent = raw.get("version")
    if sent is None or sent == "":
        return None, True
    if isinstance(sent, str) and _VERSION.fullmatch(sent) and 1 <= int(sent) <= 2**31 - 1:
        return int(sent), True
    return None, False


@dataclass
class Form:
    """What the template draws: the raw values (strings or lists, as typed) and a message per field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""
    # When the event is no longer open to me (the case moved on), its form is not drawn: what I typed
    # is shown beside the refusal instead, so it is not lost.
    title: str = ""
    typed: list[tuple[str, str]] = field(default_factory=list)


def raw_values(form: Any) -> dict[str, Any]:
    """The posted form as typed: a list where a name repeats (multi-selects), else a string."""
    out: dict[str, Any] = {}
    for key in form:
        got = form.getlist(key)
        out[key] = got if len(got) > 1 else (got[0] if got else "")
    return out


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()] if str(value).strip() else []


def _one(spec: FieldSpec, value: Any) -> tuple[Any, str | None]:
    """(payload value or None when blank, error message or None)."""
    kind = spec.type
    if kind in ("units", "choices"):
        got = _strings(value)
        if any("\x00" in g for g in got):
            return None, NUL
        return (got or None), None
    if kind == "strings":
        text = value if isinstance(value, str) else "\n".join(_strings(value))
        got = [line.strip() for line in text.splitlines() if line.strip()]
        error = next((e for e in (text_error(line, spec.text_limit) for line in got) if e), None)
        return (None, error) if error else ((got or None), None)
    text = (value[-1] if isinstance(value, list) and value else value or "")
    text = str(text).strip()
    if kind == "boolean":
        return (True if text in ("1", "on", "true") else None), None
    if not text:
        return None, None
    error = text_error(text, spec.text_limit)
    if error:
        return None, error
    if kind == "integer":
        # ASCII digits only: int() also reads "٣" and "1_000"; bounded as the engine bounds it.
        if not _INTEGER.fullmatch(text) or abs(int(text)) > INTEGER_LIMIT:
            return None, "请填写整数"
        return int(text), None
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return None, "请填写数字"
        if not math.isfinite(number):  # "NaN", "inf", "1e400"
            return None, "请填写数字"
        return number, None
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat(), None
        except ValueError:
            return None, "请填写日期，如 2026-03-01"
    if kind == "datetime":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None, "请填写日期和时间"
        return aware(moment).isoformat(), None  # the browser's datetime-local has no zone: Beijing time
    if kind == "choice" and spec.choices and text not in spec.choices:
        return None, "请从列表中选择"
    return text, None


def item_indices(raw: Mapping[str, Any], name: str) -> list[int]:
    """The row numbers posted for an items field, in order: rows added in the page may be numbered
    past the ones it drew, and a removed row leaves a gap."""
    pattern = re.compile(re.escape(name) + r"\.([0-9]{1,4})\.")
    found = {int(m.group(1)) for key in raw if (m := pattern.match(key))}
    return sorted(found)[: LIST_LIMIT + 1]


def item_rows(values: Mapping[str, Any], name: str) -> int:
    """How many rows to draw: every row typed or recorded, one empty row more, and never fewer than
    ITEM_ROWS (a page without script cannot add rows)."""
    filled = [i for i in item_indices(values, name)
              if any(values.get(k) not in (None, "", []) for k in values if k.startswith(f"{name}.{i}."))]
    return max(ITEM_ROWS, (max(filled) + 2) if filled else 0)


def _as_typed(spec: FieldSpec, value: Any) -> Any:
    """A recorded value as its widget takes it (the reverse of `_one`)."""
    if value is None:
        return ""
    if spec.type == "boolean":
        return "1" if value else ""
    if spec.type == "strings" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if spec.type in ("units", "choices"):
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if spec.type == "datetime" and isinstance(value, str):
        try:
            local = to_local(moment_of(value))
        except ValueError:
            return value
        return local.strftime("%Y-%m-%dT%H:%M")  # what datetime-local shows
    return str(value)


def typed_values(specs: Iterable[FieldSpec], recorded: Mapping[str, Any]) -> dict[str, Any]:
    """A form filled in from what the case recorded (a second draft starts from the first)."""
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.name not in recorded:
            continue
        value = recorded[spec.name]
        if spec.type == "items":
            subs = {s.name: s for s in spec.items}
            for row, record in enumerate(value if isinstance(value, list) else []):
                for key, v in (record.items() if isinstance(record, dict) else ()):
                    if key in subs:
                        out[f"{spec.name}.{row}.{key}"] = _as_typed(subs[key], v)
        else:
            out[spec.name] = _as_typed(spec, value)
    return out


def parse(specs: Sequence[FieldSpec], raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The payload for the engine and the message per field (empty when the form is complete)."""
    payload: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        if spec.type == "items":
            records = []
            for row in item_indices(raw, spec.name):
                record: dict[str, Any] = {}
                row_errors: dict[str, str] = {}
                for sub in spec.items:
                    key = f"{spec.name}.{row}.{sub.name}"
                    value, error = _one(sub, raw.get(key))
                    if error:
                        row_errors[key] = error
                    elif value is not None:
                        record[sub.name] = value
                if not record and not row_errors:
                    continue  # an empty row is not a record
                for sub in spec.items:
                    key = f"{spec.name}.{row}.{sub.name}"
                    if sub.required and sub.name not in record and key not in row_errors:
                        row_errors[key] = REQUIRED
                errors.update(row_errors)
                records.append(record)
            if len(records) > LIST_LIMIT:
                errors[f"{spec.name}.0.{spec.items[0].name}"] = f"最多{LIST_LIMIT}项"
            elif records:
                payload[spec.name] = records
            elif spec.required:
                errors[f"{spec.name}.0.{spec.items[0].name}"] = f"请至少填写一项{spec.title or ''}"
            continue
        value, error = _one(spec, raw.get(spec.name))
        if error:
            errors[spec.name] = error
        elif value is None:
            if spec.required:
                errors[spec.name] = REQUIRED
        else:
            payload[spec.name] = value
    return payload, errors


@dataclass(frozen=True)
class Widget:
    """One field as the template draws it."""

    name: str
    type: str
    title: str
    required: bool
    choices: tuple[str, ...]
    items: tuple[Widget, ...] = ()
    rows: int = 0
    # A field that takes another case's number: the cases the viewer may pick, (number, title).
    cases: tuple[tuple[str, str], ...] | None = None
    choice_titles: tuple[str, ...] = ()  # what a person reads for each of `choices`, when declared

    @property
    def options(self) -> list[tuple[str, str]]:
        """(code, title) of each choice."""
        return [(c, t or c) for c, t in zip(self.choices, self.choice_titles or self.choices, strict=False)]


def widgets(specs: Iterable[FieldSpec],
            cases: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> list[Widget]:
    cases = cases or {}
    return [Widget(s.name, s.type, s.title or s.name, s.required, s.choices,
                   tuple(widgets(s.items)), ITEM_ROWS if s.type == "items" else 0,
                   tuple(cases[s.name]) if s.name in cases else None, s.choice_titles) for s in specs]
