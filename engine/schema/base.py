"""What every schema model shares, and the turning of a validation error into `file:line` problems.

Models refuse unknown keys (`extra="forbid"`); a refusal names the allowed keys and, for a near
name, says "did you mean". The line is that of the offending key in the YAML (the loader keeps it).
"""

from __future__ import annotations

import difflib
import inspect
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge
from pydantic import BaseModel, ConfigDict, Field, ValidationError

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

Name = Annotated[str, Field(pattern=NAME_PATTERN, description="代码：小写字母开头，只含小写字母、数字和下划线")]
PositiveInt = Annotated[int, Field(ge=1)]


class Model(BaseModel):
    """A mapping in a mechanism file: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one file, at one line: `file:line: what is wrong — what is allowed`."""

    file: str
    line: int
    what: str
    allowed: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.what}" + (f" — {self.allowed}" if self.allowed else "")


def near(word: Any, choices: Iterable[Any]) -> str:
    """' (did you mean 'x'?)' for a name close to one of the choices, else ''."""
    found = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {found[0]!r}?)" if found else ""


def line_of(doc: Any, path: Sequence[Any]) -> int:
    """The line of the deepest node of `path` the YAML remembers (a key's own line where known)."""
    line = getattr(doc, "line", None) or 0
    node = doc
    for part in path:
        if isinstance(node, Mapping) and part in node:
            line = (getattr(node, "lines", None) or {}).get(part, line)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            lines = getattr(node, "lines", None) or []
            line = lines[part] if part < len(lines) else line
        else:
            break
        node = node[part]
    return line


def _members(tp: Any) -> list[Any]:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        return [m for arg in get_args(tp) if arg is not type(None) for m in _members(arg)]
    return [tp]


def _literal(tp: Any) -> tuple[Any, ...]:
    """The values of the Literal inside a type (list[Literal[...]], Literal[...] | None, …)."""
    for m in _members(tp):
        if get_origin(m) is Literal:
            return get_args(m)
        for arg in get_args(m):
            found = _literal(arg)
            if found:
                return found
    return ()


def _is_model(tp: Any) -> bool:
    return inspect.isclass(tp) and issubclass(tp, BaseModel)


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _field(model: type[BaseModel], key: Any):
    for name, f in model.model_fields.items():
        if (f.alias or name) == key:
            return f
    return None


def _resolve(model: type[BaseModel], doc: Any, loc: Sequence[Any]):
    """Walk a validation error's location through the model and the data together: the data path
    (union member tags dropped), the model holding the last key, and that key's field."""
    path: list[Any] = []
    current: list[Any] = [model]
    owner, field, node = None, None, doc
    for part in loc:
        if part == "[key]":
            continue
        candidates = [m for tp in current for m in _members(tp)]
        models = [m for m in candidates if _is_model(m)]
        tagged = [m for m in models if m.__name__ == part]
        if tagged:  # a union member's tag, not data
            current = tagged
            continue
        if models:
            owner, field = models[0], None
        is_data = (isinstance(node, Mapping) and part in node) or (isinstance(node, list) and isinstance(part, int))
        if not is_data and not any(_is_model(m) and _field(m, part) for m in models):
            continue  # the tag of a union member that is no model ('str', 'list[str]')
        path.append(part)
        node = node[part] if is_data else None
        nxt: list[Any] = []
        for m in candidates:
            if _is_model(m):
                f = _field(m, part)
                if f is not None:
                    owner, field = m, f
                    nxt.append(f.annotation)
                    break
            elif get_origin(m) in (list, tuple, Sequence) and isinstance(part, int):
                nxt.extend(get_args(m)[:1])
            elif get_origin(m) in (dict, Mapping):
                args = get_args(m)
                nxt.extend(args[1:2])
        current = nxt
    return path, owner, field


def problems_of(exc: ValidationError, model: type[BaseModel], doc: Any, source: str) -> list[Problem]:
    """Each error of a validation, once per place, as a problem with its line."""
    out: dict[tuple[Any, ...], Problem] = {}
    numbers: dict[tuple[Any, ...], list[Any]] = {}
    errors = exc.errors()
    for err in errors:
        # A list given where a union takes a list or a mapping (`choices`): the list's own errors say
        # what is wrong; that it is no mapping says nothing.
        if err["type"] == "dict_type" and isinstance(err.get("input"), list) and any(
                o is not err and o["loc"][:len(err["loc"]) - 1] == err["loc"][:-1] for o in errors):
            continue
        if err["type"] == "invalid_key":  # a key that is no text (`on:` and `yes:` read as true)
            err = {**err, "type": "extra_forbidden", "loc": (*err["loc"][:-1], err["input"])}
        path, owner, field = _resolve(model, doc, err["loc"])
        value = err.get("input")
        if (err["type"] == "string_type" and path and isinstance(path[-1], int) and isinstance(value, int | float)
                and not isinstance(value, bool)):
            numbers.setdefault(tuple(path[:-1]), []).append(value)  # one problem per list, below
            continue
        if err["type"] in ("extra_forbidden", "missing") and err["loc"]:
            key = err["loc"][-1]
            path = [*path, key] if not path or path[-1] != key else path
        else:
            named = [p for p in path if isinstance(p, str)]
            key = (named[-1] if named else "") + (" entry" if path and isinstance(path[-1], int) else "")
        problem = _describe(err, key, owner, field, path, doc)
        line = line_of(doc, path if err["type"] != "missing" else path[:-1])
        out.setdefault(tuple(path), Problem(source, line, *problem))
    for path, values in numbers.items():
        named = [p for p in path if isinstance(p, str)]
        out.setdefault(path, Problem(source, line_of(doc, path), f"{named[-1] if named else 'a list'} "
                                     f"{', '.join(map(str, values))}: numbers where text is needed",
                                     f"write them in quotes: [{', '.join(repr(str(v)) for v in values)}]"))
    return sorted(out.values(), key=lambda p: (p.line, p.what))


def _label(path: Sequence[Any], doc: Any) -> str:
    """What a mapping is, for a message: `event 'refer'`, `cadence 'monthly'`, or its key."""
    node = doc
    for part in path:
        node = node[part]
    named = [p for p in path if isinstance(p, str)]
    what = named[-1] if named else "the file"
    ident = node.get("name") or node.get("code") if isinstance(node, Mapping) else None
    if ident and isinstance(path[-1], int):
        return f"{what.removesuffix('s')} {ident!r}"
    return what


def _describe(err: Mapping[str, Any], key: Any, owner: type[BaseModel] | None, field: Any,
              path: Sequence[Any], doc: Any) -> tuple[str, str]:
    kind, value = err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    invocation = getattr(owner, "invocation", None)  # (guard|effect, name) of an arguments model
    if kind == "extra_forbidden":
        allowed = allowed_keys(owner) if owner is not None else []
        container = getattr(owner, "container", None)  # "guard" | "effect": the keys are names
        if container:
            return (f"unknown {container} {key!r}{near(key, allowed)}", f"known {container}s: {', '.join(allowed)}")
        if invocation:
            return (f"{invocation[0]} {invocation[1]!r}: unknown argument(s) {key}{near(key, allowed)}",
                    f"takes {', '.join(sorted(allowed))}")
        if isinstance(key, bool):  # `on:`, `yes:`, `no:` unquoted
            return (f"unknown key {key!r} (YAML reads an unquoted on, off, yes or no as true or false)",
                    f"allowed: {', '.join(allowed)}")
        return f"unknown key {key!r}{near(key, allowed)}", f"allowed: {', '.join(allowed)}"
    if kind == "missing":
        if invocation:
            return f"{invocation[0]} {invocation[1]!r}: missing argument(s) {key}", ""
        return f"{_label(path[:-1], doc)} is missing {key!r}", "required"
    if kind in ("literal_error", "enum"):
        expected = [str(a) for a in _literal(field.annotation)] if field is not None else []
        expected = expected or [ctx.get("expected", "")]
        return f"{key} {value!r} is not allowed{near(value, expected)}", f"allowed: {', '.join(expected)}"
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{key} {value!r} is a number where text is needed", f"write it in quotes: '{value}'"
    if kind == "string_type":
        return f"{key} must be text, not {value!r}", "a string"
    if kind == "string_pattern_mismatch":
        return f"{key} {value!r} is not a valid code", f"must match {ctx.get('pattern', NAME_PATTERN)}"
    if kind.startswith("int_") or kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        positive = field is not None and any(isinstance(m, Ge) and m.ge == 1 for m in field.metadata)
        if positive:
            return f"{key} must be a positive integer, not {value!r}", "1, 2, 3, …"
        return f"{key} must be a whole number, not {value!r}", err["msg"]
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"{key or 'the file'} must map keys to values, not {value!r}", "a mapping"
    if kind in ("list_type", "tuple_type"):
        return f"{key} must be a list, not {value!r}", "a list [a, b]"
    if kind == "bool_type" or kind == "bool_parsing":
        return f"{key} must be true or false, not {value!r}", "true | false"
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        return f"{key} must be a date, not {value!r}", "like 2026-05-01"
    if kind == "value_error":
        return f"{key or 'the file'}: {err['msg'].removeprefix('Value error, ')}", ""
    return f"{key or 'the file'}: {err['msg']}", ""


def choice_of(values: Sequence[str], description: str) -> Any:
    """A Literal type of the given values, with a description (for the JSON Schema and the tables)."""
    return Annotated[Literal[tuple(values)], Field(description=description)]
