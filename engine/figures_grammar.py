"""The figures grammar: small arithmetic over figures, case fields and aggregates of cases.

An expression is parsed by Python's own parser (`ast.parse(..., mode="eval")`) and then walked by a
whitelist: numbers, + - * / (also × ÷ −), comparisons, and/or/not, `a if c else b`, parentheses,
the functions in FUNCTIONS, and names. Anything else (attributes, subscripts, lambdas, strings
outside a keyword argument, unknown names or functions) is refused when the file is loaded, with the
names that are allowed. Nothing is ever passed to `eval`: the checked tree is turned into closures.

Numbers are decimals (money is counted to the fen; binary floats would lose it). A value is a
number, a truth value, None ("无": no case to average, a division by zero — it propagates), or a
mapping of unit code → number (an aggregate `by` a party role; `shares` of a fund).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# Aggregates over a selection: first argument a selection name, then a field (not for count).
AGGREGATES = ("count", "sum", "min", "max", "mean")
# Plain functions of values.
FUNCTIONS = ("round", "abs", "floor", "ceil", "ratio", "shares", "min", "max", "sum", "mean", "count")
_SPELLINGS = str.maketrans({"×": "*", "÷": "/", "−": "-", "（": "(", "）": ")", "，": ",", "＋": "+", "＝": "="})


class GrammarError(ValueError):
    """What is wrong with an expression (the caller adds the file and line)."""


Value = Any  # Decimal | bool | None | dict[str, Decimal]


@dataclass(frozen=True)
class Names:
    """What a name in an expression may be. `fields` None: any other name is a field (stored specs,
    already checked when the folder was loaded)."""

    figures: frozenset[str]
    selections: frozenset[str]
    fields: frozenset[str] | None
    roles: Mapping[str, frozenset[str]]  # selection → the party roles a `by` may name
    numeric: Mapping[str, frozenset[str]]  # selection → its numeric fields


class Scope:
    """What evaluation reads: figures by name, the case's fields, the cases of a selection."""

    def figure(self, name: str) -> Value:
        raise NotImplementedError

    def field(self, name: str) -> Value:
        raise NotImplementedError

    def count(self, selection: str, by: str | None) -> Value:
        """How many cases the selection holds (by: unit → how many of them that unit is `by` on)."""
        raise NotImplementedError

    def values(self, selection: str, field: str, by: str | None) -> list[tuple[str | None, Any]]:
        """(unit, recorded value of `field`) of each selected case — once per unit in the `by` role, or
        with unit None when there is no `by`."""
        raise NotImplementedError


@dataclass(frozen=True)
class Expr:
    text: str
    run: Callable[[Scope], Value]
    figures: frozenset[str]  # figures this one reads (for cycles and load order)
    selections: frozenset[str]
    fields: frozenset[str]  # fields of the case in context
    reads: frozenset[tuple[str, str]] = frozenset()  # (selection, field) its aggregates fold
    grouped: frozenset[tuple[str, str]] = frozenset()  # (selection, party role) it folds by

    def __call__(self, scope: Scope) -> Value:
        return self.run(scope)


def number(value: Any) -> Value:
    """A recorded value as a decimal (None when it is not a number)."""
    if type(value) is Decimal:  # the common case, folded thousands of times: first and cheapest
        return value
    if value is None or isinstance(value, bool):
        return None if value is None else Decimal(int(value))
    if isinstance(value, Decimal):
        return value
    if value in ("true", "false"):  # a truth value read as JSON text (PostgreSQL ->>)
        return Decimal(value == "true")
    if isinstance(value, int | float | str):
        try:
            out = Decimal(str(value))
        except InvalidOperation:
            return None
        return out if out.is_finite() else None
    return None


def compile_expr(text: Any, names: Names) -> Expr:
    """Parse and check one expression; GrammarError says what is wrong and what is allowed."""
    if isinstance(text, bool):
        text = "1" if text else "0"
    if isinstance(text, int | float):
        text = str(text)
    if not isinstance(text, str) or not text.strip():
        raise GrammarError("an expression must be a non-empty text or a number")
    source = text.translate(_SPELLINGS)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise GrammarError(f"cannot parse {text!r}: {exc.msg} at column {exc.offset}") from exc
    used: dict[str, set] = {"figures": set(), "selections": set(), "fields": set(), "reads": set(),
                            "grouped": set()}
    run = _Compiler(names, used).node(tree.body)
    return Expr(text, run, frozenset(used["figures"]), frozenset(used["selections"]), frozenset(used["fields"]),
                frozenset(used["reads"]), frozenset(used["grouped"]))


_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMP = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
        ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}


class _Compiler:
    def __init__(self, names: Names, used: dict[str, set[str]]) -> None:
        self.names, self.used = names, used

    def node(self, n: ast.AST) -> Callable[[Scope], Value]:
        if isinstance(n, ast.Constant):
            if isinstance(n.value, bool) or not isinstance(n.value, int | float):
                raise GrammarError(f"{n.value!r} is not a number (text is allowed only as by=\"role\")")
            value = Decimal(str(n.value))
            return lambda s: value
        if isinstance(n, ast.Name):
            return self.name(n.id)
        if isinstance(n, ast.BinOp) and type(n.op) in _BIN:
            left, right, op = self.node(n.left), self.node(n.right), _BIN[type(n.op)]
            return lambda s: arith(op, left(s), right(s))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub | ast.UAdd):
            inner, sign = self.node(n.operand), -1 if isinstance(n.op, ast.USub) else 1
            return lambda s: arith("*", Decimal(sign), inner(s))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
            inner = self.node(n.operand)
            return lambda s: not truth(inner(s))
        if isinstance(n, ast.BoolOp):
            parts = [self.node(v) for v in n.values]
            if isinstance(n.op, ast.And):
                return lambda s: all(truth(p(s)) for p in parts)
            return lambda s: any(truth(p(s)) for p in parts)
        if isinstance(n, ast.Compare) and all(type(o) in _CMP for o in n.ops):
            terms = [self.node(n.left), *(self.node(c) for c in n.comparators)]
            ops = [_CMP[type(o)] for o in n.ops]

            def compare(s: Scope) -> bool:
                values = [t(s) for t in terms]
                if any(v is None or isinstance(v, dict) for v in values):
                    return False
                try:
                    return all(op(a, b) for op, a, b in zip(ops, values, values[1:], strict=False))
                except TypeError:  # a text against a number: neither less nor more
                    return False
            return compare
        if isinstance(n, ast.IfExp):
            test, yes, no = self.node(n.test), self.node(n.body), self.node(n.orelse)
            return lambda s: yes(s) if truth(test(s)) else no(s)
        if isinstance(n, ast.Call):
            return self.call(n)
        raise GrammarError(f"{ast.unparse(n)!r} is not allowed: use numbers, names, + - × ÷, comparisons, "
                           f"and/or/not, … if … else …, and the functions {', '.join(sorted(set(FUNCTIONS)))}")

    def name(self, name: str) -> Callable[[Scope], Value]:
        names = self.names
        if name in names.figures:
            self.used["figures"].add(name)
            return lambda s: s.figure(name)
        if name in names.selections:
            raise GrammarError(f"{name!r} is a selection of cases: use it inside count(), sum(), min(), max() "
                               "or mean()")
        if names.fields is None or name in names.fields:
            self.used["fields"].add(name)
            return lambda s: s.field(name)
        allowed = sorted(names.figures | names.fields)
        raise GrammarError(f"unknown name {name!r}; figures and fields here: {', '.join(allowed) or 'none'}")

    def call(self, n: ast.Call) -> Callable[[Scope], Value]:
        if not isinstance(n.func, ast.Name) or n.func.id not in FUNCTIONS:
            raise GrammarError(f"unknown function {ast.unparse(n.func)!r}; functions: "
                               f"{', '.join(sorted(set(FUNCTIONS)))}")
        fn = n.func.id
        if fn in AGGREGATES and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id in self.names.selections:
            return self.aggregate(fn, n)
        if fn == "count":
            given = ast.unparse(n.args[0]) if n.args else "nothing"
            raise GrammarError(f"count() takes a selection of cases, and {given!r} is not one; selections: "
                               f"{', '.join(sorted(self.names.selections)) or 'none'}")
        allowed_kw = {"round": {"digits"}, "shares": {"step"}}.get(fn, set())
        for kw in n.keywords:
            if kw.arg not in allowed_kw:
                raise GrammarError(f"{fn}() takes no argument {kw.arg!r}")
        args = [self.node(a) for a in n.args]
        kwargs = {kw.arg: self.node(kw.value) for kw in n.keywords}
        arity = {"round": (1, 2), "abs": (1, 1), "floor": (1, 1), "ceil": (1, 1), "ratio": (2, 2),
                 "shares": (2, 3)}.get(fn, (1, 99))
        if not arity[0] <= len(args) + len(kwargs) <= arity[1]:
            raise GrammarError(f"{fn}() takes {arity[0]}–{arity[1]} argument(s), not {len(args) + len(kwargs)}")
        impl = _PLAIN[fn]
        return lambda s: impl(*(a(s) for a in args), **{k: v(s) for k, v in kwargs.items()})

    def aggregate(self, fn: str, n: ast.Call) -> Callable[[Scope], Value]:
        selection = n.args[0].id
        self.used["selections"].add(selection)
        rest = n.args[1:]
        field = None
        if fn == "count":
            if rest:
                raise GrammarError("count(selection) counts cases and takes no field")
        else:
            if len(rest) != 1 or not isinstance(rest[0], ast.Name):
                raise GrammarError(f"{fn}({selection}, FIELD) needs one recorded field of the selected cases")
            field = rest[0].id
            self.used["reads"].add((selection, field))
            numeric = self.names.numeric.get(selection)
            if numeric is not None and field not in numeric:
                raise GrammarError(f"{field!r} is not a number field of the cases of {selection!r}; number fields: "
                                   f"{', '.join(sorted(numeric)) or 'none'}")
        by = None
        for kw in n.keywords:
            if kw.arg != "by" or not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)):
                raise GrammarError(f"{fn}() over a selection takes only by=\"ROLE\" (a party role)")
            by = kw.value.value
            self.used["grouped"].add((selection, by))
            roles = self.names.roles.get(selection)
            if roles is not None and by not in roles:
                raise GrammarError(f"by={by!r}: not a party role of the cases of {selection!r}; roles: "
                                   f"{', '.join(sorted(roles))}")

        def run(s: Scope) -> Value:
            if fn == "count":
                return s.count(selection, by)
            # Recorded values are folded here, as decimals: a database would sum binary floats.
            groups: dict[str | None, list[Decimal]] = {}
            for unit, raw in s.values(selection, field, by):
                values = groups.setdefault(unit, [])
                if (v := number(raw)) is not None:
                    values.append(v)
            if by is None:
                return _fold(fn, groups.get(None, []))
            return {unit: _fold(fn, values) for unit, values in sorted(groups.items())}
        return run


def _fold(fn: str, values: list[Decimal]) -> Value:
    if fn == "sum":
        return sum(values, Decimal(0))
    if fn == "count":
        return Decimal(len(values))
    if not values:
        return None
    if fn == "min":
        return min(values)
    if fn == "max":
        return max(values)
    return sum(values, Decimal(0)) / len(values)


def truth(value: Value) -> bool:
    return bool(value) if not isinstance(value, dict) else bool(value)


def arith(op: str, a: Value, b: Value) -> Value:
    """+ - * / on numbers; a mapping with a number applies to each entry, two mappings key by key."""
    if isinstance(a, dict) or isinstance(b, dict):
        keys = list(dict.fromkeys([*(a if isinstance(a, dict) else ()), *(b if isinstance(b, dict) else ())]))
        return {k: arith(op, a.get(k) if isinstance(a, dict) else a, b.get(k) if isinstance(b, dict) else b)
                for k in keys}
    a, b = number(a), number(b)  # truth values count as 1 and 0, a text as nothing
    if a is None or b is None:
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return None if b == 0 else a / b


def _each(value: Value, fn: Callable[[Decimal], Value]) -> Value:
    if isinstance(value, dict):
        return {k: _each(v, fn) for k, v in value.items()}
    return None if value is None else fn(Decimal(value))


def _round(value: Value, digits: Value = Decimal(0)) -> Value:
    """Half up, as money is rounded (0.005 → 0.01), not to even."""
    quantum = Decimal(1).scaleb(-int(digits or 0))
    return _each(value, lambda v: v.quantize(quantum, rounding=ROUND_HALF_UP))


def _ratio(a: Value, b: Value) -> Value:
    return arith("/", a, b)


def _values(args: Iterable[Value]) -> list[Decimal]:
    out: list[Decimal] = []
    for a in args:
        if isinstance(a, dict):
            out.extend(v for v in a.values() if v is not None)
        elif a is not None:
            out.append(Decimal(a))
    return out


def shares(total: Value, weights: Value, step: Value = Decimal("0.01")) -> Value:
    """`total` shared out by `weights` (unit → weight) in whole steps (default the fen), by the
    largest-remainder method: each share is its quota rounded down, and the steps left over go to the
    largest remainders (ties: the larger weight, then the unit code), so the shares sum EXACTLY to the
    total (a total that is not a whole number of steps is first rounded down to one)."""
    if total is None or not isinstance(weights, dict):
        return None
    step = Decimal(step)
    weights = {k: Decimal(v) for k, v in weights.items() if v is not None and Decimal(v) > 0}
    whole = sum(weights.values(), Decimal(0))
    if not weights or whole == 0 or step <= 0:
        return {k: Decimal(0) for k in weights}
    steps = int((Decimal(total) / step).to_integral_value(rounding=ROUND_FLOOR))
    quotas = {k: steps * w / whole for k, w in weights.items()}
    floors = {k: int(q.to_integral_value(rounding=ROUND_FLOOR)) for k, q in quotas.items()}
    left = steps - sum(floors.values())
    order = sorted(weights, key=lambda k: (-(quotas[k] - floors[k]), -weights[k], k))
    for k in order[:left]:
        floors[k] += 1
    return {k: (floors[k] * step).quantize(step) for k in sorted(weights)}


_PLAIN: dict[str, Callable[..., Value]] = {
    "round": _round,
    "abs": lambda v: _each(v, abs),
    "floor": lambda v: _each(v, lambda x: Decimal(math.floor(x))),
    "ceil": lambda v: _each(v, lambda x: Decimal(math.ceil(x))),
    "ratio": _ratio,
    "shares": shares,
    "min": lambda *a: min(_values(a), default=None),
    "max": lambda *a: max(_values(a), default=None),
    "sum": lambda *a: sum(_values(a), Decimal(0)),
    "mean": lambda *a: _fold("mean", _values(a)),
}


def plain(value: Value) -> Any:
    """A figure as JSON-able data: integers stay integers, other decimals become text-free numbers."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    return value
