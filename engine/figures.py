"""Figures across cases, and uniqueness, declared as data per task force (`figures.yaml`).

    selections:                      # named sets of cases
      months:
        workflow: monitoring         # required
        states: [confirmed]          # or state: x, or open: true / closed: true
        period: {field: month, in: year}   # the case's `month` lies in the `year` of the case in context
        party: {role: county, same_as: county}   # or {role, unit: CODE}: units holding the role
        link: {kind: settles, direction: from}   # cases the case in context links to (to: that link to it)
    figures:
      months_done: {title: 已确认月数, of: settlement, value: count(months)}
      shares: {title: 各县分配, of: settlement, value: 'shares(fund, sum(months, score, by="county"))'}
      open_months: count(open_months)          # no `of`: a figure of the whole task force
    unique:                          # a second case with the same key is refused at creation
      monitoring: [party:county, field:month]

The grammar is engine/figures_grammar.py. Every name is resolved at load: a selection's workflow,
states, party roles, units, period field and link kind; a figure's names (other figures, the fields
of its `of` workflow, selections) and the fields and roles its aggregates read; no figure depends on
itself. A figure with `of: W` is evaluated for one case of W (its fields and parties in context); one
without is evaluated for the task force. Figures are evaluated only where used (a guard, an effect, a
document, a page), never on every event.

The file is stored at load (settings `figures:<task force>`) and re-read by a running server within
30 seconds, like the naming rules. Uniqueness is enforced by the database: each key is a row of
`case_keys`, unique per (task force, workflow, key), written in the creating transaction — two
concurrent creations cannot both pass. The key applies across every version of the workflow.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from db.repositories import figures as repo
from db.repositories import time as trepo
from engine.definition import Definition
from engine.errors import DefinitionError, DuplicateCase, NotFound
from engine.figures_grammar import Expr, GrammarError, Names, Scope, Value, compile_expr, number, plain
from engine.loader import NAME_RE, parse_yaml
from engine.localtime import LOCAL_TZ

SETTING_PREFIX = "figures:"
# The key of an event's history row holding the figures its `record_figure` effects recorded.
RECORDED = "_figures"
REFRESH_SECONDS = 30.0
# Truth values add up as 1 and 0: sum(selection, met) counts the cases that met a target.
NUMERIC = frozenset({"integer", "number", "boolean"})
CREATED = "@created"
PERIOD_RE = re.compile(r"^\d{4}(-Q[1-4]|-\d{2}(-\d{2})?)?$")  # a period field: the day the case was opened (local)
SELECTION_KEYS = frozenset({"workflow", "title", "state", "states", "open", "closed", "period", "party", "link"})
FIGURE_KEYS = frozenset({"title", "of", "value", "unit"})
COMPARISONS = (">", ">=", "<", "<=", "==", "!=")  # the `op` of the guard `figure`


@dataclass(frozen=True)
class Selection:
    name: str
    workflow: str
    states: frozenset[str] | None = None
    closed: bool | None = None
    period_field: str | None = None
    period_in: Expr | None = None
    party_role: str | None = None
    party_unit: str | None = None
    party_same_as: str | None = None  # a party role of the case in context
    link_kind: str | None = None
    link_direction: str = "from"

    @property
    def in_context(self) -> bool:
        """Reads the case in context (its fields, parties or links)."""
        return bool(self.period_in and self.period_in.fields) or bool(self.party_same_as or self.link_kind)


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    of: str | None
    expr: Expr
    unit: str = ""


@dataclass(frozen=True)
class FiguresSpec:
    selections: dict[str, Selection] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    unique: dict[str, tuple[str, ...]] = field(default_factory=dict)  # workflow → key parts
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    assessment: dict[int, Any] = field(default_factory=dict)  # year → engine.assessment.YearRules

    @functools.cached_property
    def reads(self) -> dict[str, tuple[str, ...]]:
        """Selection → every field some figure folds over it: fetched together, once per evaluation."""
        out: dict[str, set[str]] = {}
        for f in self.figures.values():
            for selection, name in f.expr.reads:
                out.setdefault(selection, set()).add(name)
        return {s: tuple(sorted(names)) for s, names in out.items()}

    @functools.cached_property
    def grouped(self) -> dict[str, tuple[str, ...]]:
        """Selection → the party roles figures fold it `by`."""
        out: dict[str, set[str]] = {}
        for f in self.figures.values():
            for selection, role in f.expr.grouped:
                out.setdefault(selection, set()).add(role)
        return {s: tuple(sorted(roles)) for s, roles in out.items()}

    def of(self, workflow: str | None) -> list[Figure]:
        """The figures evaluated for a case of `workflow` (None: the task force's own)."""
        return [f for f in self.figures.values() if f.of == workflow]


@dataclass(frozen=True)
class _Known:
    """What the task force's definitions declare, across every version: the names a file may use."""

    states: dict[str, set[str]]
    fields: dict[str, dict[str, str]]  # workflow → field → type
    roles: dict[str, set[str]]  # workflow → party roles
    links: set[str]
    units: frozenset[str]
    cards: set[str] = field(default_factory=set)  # kinds of `card:` an event records

    @classmethod
    def of(cls, definitions: Iterable[Definition], units: Iterable[str]) -> _Known:
        states: dict[str, set[str]] = {}
        fields: dict[str, dict[str, str]] = {}
        roles: dict[str, set[str]] = {}
        links: set[str] = set()
        cards: set[str] = set()
        for d in definitions:
            states.setdefault(d.name, set()).update(d.states)
            cards.update(e.card[0] for e in d.events.values() if e.card)
            f = fields.setdefault(d.name, {})
            for spec in (*d.create.fields, *(x for e in d.events.values() for x in e.fields)):
                f.setdefault(spec.name, spec.type)
            for inv in (*d.create.effects, *(x for e in d.events.values() for x in e.effects)):
                args = inv.kwargs()
                if inv.name == "spawn" and args.get("link"):
                    links.add(args["link"])
                if inv.name == "link_case" and args.get("kind"):
                    links.add(args["kind"])
            roles.setdefault(d.name, set()).update(r for r, s in d.roles.items() if s.kind == "party")
        return cls(states, fields, roles, links, frozenset(units), cards)


def parse_figures(path: Path, definitions: Iterable[Definition], units: Iterable[str]) -> FiguresSpec:
    """Read and check a task force's figures.yaml (an empty spec when there is none)."""
    if not path.is_file():
        return FiguresSpec()
    return read_figures(parse_yaml(path.read_text(encoding="utf-8"), str(path)), str(path),
                        _Known.of(definitions, units))


def from_data(data: Mapping[str, Any]) -> FiguresSpec:
    """A spec stored at load, rebuilt without the definitions (its names were checked then)."""
    return read_figures(data, "<stored figures>", None)


def read_figures(doc: Any, source: str, known: _Known | None) -> FiguresSpec:
    def fail(node: Any, problem: str) -> None:
        raise DefinitionError(source, getattr(node, "line", None), problem)

    if doc is None:
        return FiguresSpec()
    if not isinstance(doc, Mapping):
        fail(doc, "figures.yaml must be a mapping of selections, figures, unique and assessment")
    extra = sorted(set(doc) - {"selections", "figures", "unique", "assessment"})
    if extra:
        fail(doc, f"unknown key(s) {', '.join(extra)}; allowed: assessment, figures, selections, unique")
    workflows = sorted(known.states) if known else None

    def workflow(node: Any, name: Any, what: str) -> str:
        if not isinstance(name, str) or (known is not None and name not in known.states):
            fail(node, f"{what}: unknown workflow {name!r}; workflows: {', '.join(workflows or [])}")
        return name

    def key_name(node: Any, name: Any, what: str) -> str:
        if not isinstance(name, str) or not NAME_RE.match(name):
            fail(node, f"{what} {name!r} must match {NAME_RE.pattern}")
        return name

    raw_sel = doc.get("selections") or {}
    raw_fig = doc.get("figures") or {}
    if not isinstance(raw_sel, Mapping) or not isinstance(raw_fig, Mapping):
        fail(doc, "selections and figures are mappings of name to declaration")
    figure_names = frozenset(key_name(raw_fig, n, "figure name") for n in raw_fig)
    clash = figure_names & set(raw_sel)
    if clash:
        fail(raw_sel, f"{', '.join(sorted(clash))} is both a selection and a figure")

    selections: dict[str, Selection] = {}
    for name, spec in raw_sel.items():
        key_name(raw_sel, name, "selection name")
        what = f"selection {name!r}"
        if not isinstance(spec, Mapping):
            fail(raw_sel, f"{what} must be a mapping")
        extra = sorted(set(spec) - SELECTION_KEYS)
        if extra:
            fail(spec, f"{what} has unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(SELECTION_KEYS))}")
        wf = workflow(spec, spec.get("workflow"), what)
        states = spec.get("states", [spec["state"]] if "state" in spec else None)
        if states is not None:
            if not isinstance(states, list) or not states:
                fail(spec, f"{what}: states must be a non-empty list")
            for s in states:
                if known is not None and s not in known.states[wf]:
                    fail(spec, f"{what}: {wf} has no state {s!r}; states: {', '.join(sorted(known.states[wf]))}")
        closed = None
        for flag, means in (("open", False), ("closed", True)):
            if flag in spec:
                if not isinstance(spec[flag], bool):
                    fail(spec, f"{what}: {flag} must be true or false")
                closed = means if spec[flag] else not means
        wf_fields = known.fields[wf] if known else None
        period_field = period_in = None
        if spec.get("period") is not None:
            period = spec["period"]
            if not isinstance(period, Mapping) or set(period) - {"field", "in"} or "in" not in period:
                fail(spec, f"{what}: period is {{field: FIELD, in: EXPRESSION}} (the field's date or YYYY-MM "
                           "lies in the year, month or quarter the expression gives)")
            period_field = period.get("field", CREATED)
            if wf_fields is not None and period_field != CREATED and period_field not in wf_fields:
                fail(period, f"{what}: {wf} has no field {period_field!r}; fields: {', '.join(sorted(wf_fields))}"
                             f", or {CREATED} (the day the case was opened)")
            given = period["in"]
            if isinstance(given, date):  # YAML reads 2026-03-05 as a date
                given = given.isoformat()
            if isinstance(given, str) and PERIOD_RE.match(given):  # a period written out: 2026-03, 2026-Q2
                period_in = Expr(given, lambda s, text=given: text, frozenset(), frozenset(), frozenset())
            else:
                try:
                    period_in = compile_expr(given, Names(frozenset(), frozenset(), None, {}, {}))
                except GrammarError as exc:
                    fail(period, f"{what}: period in: {exc}")
        party_role = party_unit = same_as = None
        if spec.get("party") is not None:
            party = spec["party"]
            if not isinstance(party, Mapping) or set(party) - {"role", "unit", "same_as"} or "role" not in party:
                fail(spec, f"{what}: party is {{role: ROLE}} with unit: CODE or same_as: ROLE (of the case in "
                           "context)")
            party_role, party_unit, same_as = party["role"], party.get("unit"), party.get("same_as")
            if known is not None:
                if party_role not in known.roles[wf]:
                    fail(party, f"{what}: {wf} has no party role {party_role!r}; roles: "
                                f"{', '.join(sorted(known.roles[wf]))}")
                if party_unit is not None and party_unit not in known.units:
                    fail(party, f"{what}: unknown unit {party_unit!r}")
        link_kind, direction = None, "from"
        if spec.get("link") is not None:
            link = spec["link"]
            if not isinstance(link, Mapping) or set(link) - {"kind", "direction"} or "kind" not in link:
                fail(spec, f"{what}: link is {{kind: KIND, direction: from | to}}")
            link_kind, direction = link["kind"], link.get("direction", "from")
            if direction not in ("from", "to"):
                fail(link, f"{what}: link direction is from (cases the case in context links to) or to")
            if known is not None and link_kind not in known.links:
                fail(link, f"{what}: no definition makes links of kind {link_kind!r}; kinds: "
                           f"{', '.join(sorted(known.links)) or 'none'}")
        selections[name] = Selection(name, wf, frozenset(states) if states else None, closed, period_field,
                                     period_in, party_role, party_unit, same_as, link_kind, direction)

    roles = {n: frozenset(known.roles[s.workflow]) for n, s in selections.items()} if known else {}
    numeric = ({n: frozenset(f for f, t in known.fields[s.workflow].items() if t in NUMERIC)
                for n, s in selections.items()} if known else {})
    figures: dict[str, Figure] = {}
    for name, spec in raw_fig.items():
        what = f"figure {name!r}"
        if not isinstance(spec, Mapping):
            spec = {"value": spec}
        extra = sorted(set(spec) - FIGURE_KEYS)
        if extra:
            fail(spec, f"{what} has unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(FIGURE_KEYS))}")
        of = spec.get("of")
        if of is not None:
            workflow(spec, of, what)
        fields = None
        if known is not None:
            fields = frozenset(known.fields[of]) if of else frozenset()
        line = getattr(spec, "line", None) or getattr(raw_fig, "line", None)
        try:
            expr = compile_expr(spec.get("value"), Names(figure_names, frozenset(selections), fields, roles, numeric))
        except GrammarError as exc:
            raise DefinitionError(source, line, f"{what}: {exc}") from exc
        for dep in expr.figures:
            other = raw_fig[dep]
            dep_of = other.get("of") if isinstance(other, Mapping) else None
            if dep_of is not None and dep_of != of:
                raise DefinitionError(source, line, f"{what} reads {dep!r}, a figure of each {dep_of} case, "
                                                    f"which is not in context here")
        for sname in expr.selections:
            sel = selections[sname]
            if sel.in_context and of is None:
                raise DefinitionError(source, line, f"{what} uses selection {sname!r}, which reads the case in "
                                                    "context: give the figure `of: WORKFLOW`")
            if known is not None and of is not None:
                needed = set(sel.period_in.fields if sel.period_in else ()) - set(known.fields[of])
                if needed:
                    raise DefinitionError(source, line, f"{what}: selection {sname!r} reads {', '.join(sorted(needed))}"
                                                        f", which {of} does not record")
                if sel.party_same_as and sel.party_same_as not in known.roles[of]:
                    raise DefinitionError(source, line, f"{what}: selection {sname!r} reads the {sel.party_same_as!r} "
                                                        f"party, which {of} does not have")
        figures[name] = Figure(name, str(spec.get("title") or name), of, expr, str(spec.get("unit") or ""))
    _check_cycles(figures, source, raw_fig)

    unique: dict[str, tuple[str, ...]] = {}
    raw_unique = doc.get("unique") or {}
    if not isinstance(raw_unique, Mapping):
        fail(doc, "unique maps a workflow to its key, e.g. monitoring: [party:county, field:month]")
    for wf, parts in raw_unique.items():
        workflow(raw_unique, wf, "unique")
        if not isinstance(parts, list) or not parts:
            fail(raw_unique, f"unique {wf}: a non-empty list of party:ROLE and field:FIELD")
        for part in parts:
            kind, _, name = str(part).partition(":")
            if kind == "workflow" and not name:
                continue
            if kind not in ("party", "field") or not name:
                fail(parts, f"unique {wf}: {part!r} is not workflow, party:ROLE or field:FIELD")
            if known is not None:
                allowed = known.roles[wf] if kind == "party" else known.fields[wf]
                if name not in allowed:
                    fail(parts, f"unique {wf}: {wf} has no {'party role' if kind == 'party' else 'field'} {name!r};"
                                f" allowed: {', '.join(sorted(allowed))}")
        unique[wf] = tuple(str(p) for p in parts if str(p) != "workflow")
    from engine.assessment import read_assessment  # it reads the selections read here

    assessment = read_assessment(doc.get("assessment"), source, selections, known)
    return FiguresSpec(selections, figures, unique, _plain(doc), assessment)


def _check_cycles(figures: Mapping[str, Figure], source: str, raw: Any) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            loop = path[path.index(name):] + [name]
            raise DefinitionError(source, getattr(raw.get(name), "line", None) or getattr(raw, "line", None),
                                  f"figures depend on themselves: {' → '.join(loop)}")
        state[name] = 1
        for dep in sorted(figures[name].expr.figures):
            visit(dep, [*path, name])
        state[name] = 2

    for name in figures:
        visit(name, [])


def _plain(data: Any) -> Any:
    """The file as JSON-able data (it is stored as a setting): a date YAML read becomes its ISO text."""
    if isinstance(data, Mapping):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, date):
        return data.isoformat()
    return data


def check_uses(spec: FiguresSpec, definitions: Iterable[Definition]) -> None:
    """The figures a definition's guards and effects name exist, and fit the case they run on."""
    for d in definitions:
        invocations = [*d.create.effects, *(x for e in d.events.values() for x in (*e.guards, *e.effects))]
        for inv in invocations:
            if inv.name not in ("figure", "record_figure"):
                continue
            name = inv.kwargs().get("name")
            fig = spec.figures.get(name)
            if fig is None:
                raise DefinitionError(d.source, None, f"{inv.name}: unknown figure {name!r}; figures.yaml declares "
                                                      f"{', '.join(sorted(spec.figures)) or 'none'}")
            op = inv.kwargs().get("op", "==")
            if inv.name == "figure" and op not in COMPARISONS:
                raise DefinitionError(d.source, None, f"figure {name!r}: op {op!r} is not one of "
                                                      f"{' '.join(COMPARISONS)}")
            if inv in d.create.effects and inv.name == "record_figure":
                raise DefinitionError(d.source, None, f"record_figure {name!r}: figures are recorded by an event, "
                                                      "not when the case is opened")
            if fig.of not in (None, d.name):
                raise DefinitionError(d.source, None, f"{inv.name}: figure {name!r} is a figure of each {fig.of} "
                                                      f"case, not of {d.name}")


# PostgreSQL's jsonb keeps a mapping's keys in its own order (shortest first), and the order of
# figures and of assessment rules is the order a page shows them in: mappings are stored as pairs.
PAIRS = "__pairs__"


def _ordered(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {PAIRS: [[k, _ordered(v)] for k, v in data.items()]}
    if isinstance(data, list):
        return [_ordered(v) for v in data]
    return data


def _unordered(data: Any) -> Any:
    if isinstance(data, Mapping):
        if set(data) == {PAIRS}:
            return {k: _unordered(v) for k, v in data[PAIRS]}
        return {k: _unordered(v) for k, v in data.items()}  # stored before pairs were
    if isinstance(data, list):
        return [_unordered(v) for v in data]
    return data


def store_figures(conn: Connection, task_force: str, spec: FiguresSpec) -> None:
    trepo.put_setting(conn, SETTING_PREFIX + task_force, _ordered(spec.raw))


# --- at run time --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InContext:
    """The case a figure is evaluated for."""

    id: int
    workflow: str
    data: Mapping[str, Any]
    parties: Mapping[str, list[str]]


class _Evaluation(Scope):
    def __init__(self, conn: Connection, task_force: str, spec: FiguresSpec, case: InContext | None) -> None:
        self.conn, self.task_force, self.spec, self.case = conn, task_force, spec, case
        self.computed: dict[str, Value] = {}
        self.narrowed: dict[str, repo.Narrowing | None] = {}
        self.fetched: dict[tuple[str, str | None], list[tuple]] = {}
        self.counted: dict[tuple[str, str | None], Value] = {}

    def figure(self, name: str) -> Value:
        if name not in self.computed:
            self.computed[name] = self.spec.figures[name].expr(self)
        return self.computed[name]

    def field(self, name: str) -> Value:
        """A number, else the text recorded (a period such as 2026-03), else None."""
        raw = self.case.data.get(name) if self.case is not None else None
        value = number(raw)
        return value if value is not None or not isinstance(raw, str) else raw

    # Each selection costs one query: a count (by a role, or not) when no figure folds its fields, else
    # its rows with every folded field — per unit when figures fold it by one role.
    def count(self, selection: str, by: str | None) -> Value:
        if not self.spec.reads.get(selection):
            key = (selection, by)
            if key not in self.counted:
                n = self._narrowing(selection)
                found = (({} if by else 0) if n is None else repo.count(self.conn, n, by))
                self.counted[key] = ({u: Decimal(c) for u, c in found.items()} if by else Decimal(found))
            return self.counted[key]
        if by is None:
            return Decimal(len(self._per_case(selection)))
        out: dict[str, Decimal] = {}
        for row in self._fetch(selection, by):
            if row[1] is not None:
                out[row[1]] = out.get(row[1], Decimal(0)) + 1
        return dict(sorted(out.items()))

    def values(self, selection: str, field: str, by: str | None) -> list:
        i = 2 + self.spec.reads[selection].index(field)
        if by is None:
            return [(None, row[i]) for row in self._per_case(selection)]
        return [(row[1], row[i]) for row in self._fetch(selection, by) if row[1] is not None]

    def _per_case(self, selection: str) -> list[tuple]:
        roles = self.spec.grouped.get(selection, ())
        if len(roles) != 1:
            return self._fetch(selection, None)
        key = (selection, "")
        if key not in self.fetched:  # one row per case, from the rows per unit
            seen: set[int] = set()
            self.fetched[key] = [r for r in self._fetch(selection, roles[0]) if not (r[0] in seen or seen.add(r[0]))]
        return self.fetched[key]

    def _fetch(self, selection: str, role: str | None) -> list[tuple]:
        key = (selection, role)
        if key not in self.fetched:
            fields = self.spec.reads.get(selection, ())
            n = self._narrowing(selection)
            rows = [] if n is None else repo.rows(self.conn, n, fields, role)
            self.fetched[key] = [(r[0], r[1], *(number(v) for v in r[2:])) for r in rows]
        return self.fetched[key]

    def _narrowing(self, selection: str) -> repo.Narrowing | None:
        """The selection for this case in context, once per evaluation; None when it holds nothing."""
        if selection not in self.narrowed:
            self.narrowed[selection] = self._narrow(self.spec.selections[selection])
        return self.narrowed[selection]

    def _narrow(self, sel: Selection) -> repo.Narrowing | None:
        units = None
        if sel.party_unit is not None:
            units = (sel.party_unit,)
        elif sel.party_same_as is not None:
            units = tuple((self.case.parties if self.case else {}).get(sel.party_same_as) or ())
            if not units:
                return None
        ids = None
        if sel.link_kind is not None:
            if self.case is None:
                return None
            ids = tuple(repo.linked_ids(self.conn, self.case.id, sel.link_kind, sel.link_direction))
        prefixes = created = None
        if sel.period_in is not None:
            period = _period_text(sel.period_in(self))
            if period is None:
                return None
            if sel.period_field == CREATED:
                created = _window(period)
                if created is None:
                    return None
            else:
                prefixes = (sel.period_field, _prefixes(period))
        return repo.Narrowing(self.task_force, sel.workflow, sel.states, sel.closed, sel.party_role, units, ids,
                              prefixes, created)


def _period_text(value: Value) -> str | None:
    """2026 → "2026"; a YYYY-MM or YYYY-MM-DD text stays as it is."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(int(value))


def _window(period: str) -> tuple[datetime, datetime] | None:
    """A year (2026), month (2026-03), day (2026-03-05) or quarter (2026-Q2) as a UTC window of local days."""
    try:
        if "-Q" in period:
            year, q = (int(x) for x in period.split("-Q", 1))
            start, months = date(year, 3 * q - 2, 1), 3
        elif len(period) == 4:
            start, months = date(int(period), 1, 1), 12
        elif len(period) == 7:
            start, months = date(int(period[:4]), int(period[5:7]), 1), 1
        else:
            day = date.fromisoformat(period)
            return _local_midnight(day), _local_midnight(day + timedelta(days=1))
    except ValueError:
        return None
    end = date(start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1, 1)
    return _local_midnight(start), _local_midnight(end)


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(UTC)


def _prefixes(period: str) -> tuple[str, ...]:
    """The texts a recorded date or YYYY-MM of the period starts with: a quarter is its three months."""
    if "-Q" in period:
        year, _, q = period.partition("-Q")
        if q.isdigit() and 1 <= int(q) <= 4:
            return tuple(f"{year}-{m:02d}" for m in range(3 * int(q) - 2, 3 * int(q) + 1))
    return (period,)


class Figures:
    """Per process: each task force's stored figures (re-read now and then); evaluation on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._specs: dict[str, tuple[float, FiguresSpec]] = {}

    def spec(self, conn: Connection, task_force: str) -> FiguresSpec:
        cached = self._specs.get(task_force)
        if cached is None or time.monotonic() - cached[0] > REFRESH_SECONDS:
            stored = trepo.get_setting(conn, SETTING_PREFIX + task_force)
            cached = (time.monotonic(), from_data(_unordered(stored)) if stored else FiguresSpec())
            with self._lock:
                self._specs[task_force] = cached
        return cached[1]

    def evaluate(self, conn: Connection, task_force: str, names: Iterable[str] | None = None,
                 case: InContext | None = None) -> dict[str, Value]:
        """The named figures (default: every figure of the case's workflow, or of the task force)."""
        spec = self.spec(conn, task_force)
        wanted = list(names) if names is not None else [f.name for f in spec.of(case.workflow if case else None)]
        for name in wanted:
            fig = spec.figures.get(name)
            if fig is None:
                raise NotFound(f"no figure {name!r} in {task_force}", figure=name)
            if fig.of is not None and (case is None or case.workflow != fig.of):
                raise NotFound(f"figure {name!r} is a figure of each {fig.of} case", figure=name)
        run = _Evaluation(conn, task_force, spec, case)
        return {name: run.figure(name) for name in wanted}

    def table(self, conn: Connection, task_force: str, case: InContext | None = None) -> list[dict[str, Any]]:
        """Every figure in context as rows for a page or the API: name, title, unit, value (plain data)."""
        spec = self.spec(conn, task_force)
        values = self.evaluate(conn, task_force, None, case)
        return [{"name": f.name, "title": f.title, "unit": f.unit, "value": plain(values[f.name])}
                for f in spec.of(case.workflow if case else None)]

    def recorded(self, ctx: Any, effects: Iterable[tuple[Any, Mapping[str, Any]]]) -> dict[str, Any]:
        """key → the figure each `record_figure` effect of an event records, computed now (plain data)."""
        out: dict[str, Any] = {}
        for named, kwargs in effects:
            if named.name == "record_figure":
                from engine.registry import figure_now

                out[kwargs.get("key") or kwargs["name"]] = plain(figure_now(ctx, kwargs["name"]))
        return out

    def claim_unique(self, conn: Connection, task_force: str, workflow: str, case_id: int,
                     data: Mapping[str, Any], parties: Mapping[str, list[str]]) -> None:
        """Write the case's key rows; DuplicateCase names the case already holding the key. A key with an
        empty part (no unit in the role yet, no value in the field) is not claimed."""
        parts = self.spec(conn, task_force).unique.get(workflow)
        if not parts:
            return
        values = []
        for part in parts:
            kind, _, name = part.partition(":")
            value = sorted(parties.get(name) or ()) if kind == "party" else data.get(name)
            if value in (None, "", []):
                return
            values.append(value)
        text = json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)
        key = hashlib.sha256(text.encode()).hexdigest()
        holder = repo.claim_key(conn, task_force=task_force, workflow=workflow, key=key, case_id=case_id)
        if holder is not None:
            raise DuplicateCase(workflow, list(parts), values, holder)
