"""考核细则 as data: each unit's yearly score, from the `assessment:` section of figures.yaml.

    assessment:
      2026:                                  # one set of rules per year (a YAML anchor repeats one)
        title: 2026年度考核细则
        base: 100                            # 基础分
        rules:
          late: {title: 逾期办结或未办结, counts: late, except: [duty_report], deduct: 1, cap: 20}
          missed_report: {title: 未按期报送, counts: late, workflows: [duty_report], deduct: 1, cap: 10}
          yellow: {title: 黄牌督办, counts: "card:yellow", deduct: 2}
          referrals: {title: 主动移送, counts: "selection:referrals_made", by: referrer, bonus: 0.5, cap: 3}
        score: 'max(0, base − deductions + min(bonuses, 5))'

What a rule counts, per unit, in the year (each one drills down to its cases):
- `late`, `met`: deadlines the unit owed (assessed ones: those that set the case's due date) that were
  met late or expired (late), or met in time (met), in the year; `workflows` / `except` narrow them;
- `overdue`: the unit's open work past due now (for a past year: past due at its end, still open now);
- `card:KIND`: the events a definition marks `card: {kind: KIND, against: ROLE}` against the unit;
- `selection:NAME` with `by: ROLE`: the cases of a figures.yaml selection on which the unit holds ROLE
  (a selection's `period: {in: year}` reads the assessed year).

`deduct` or `bonus` is the points of the rule: a number per item, or an expression of the figures
grammar in `n` (the count), e.g. 'min(n, 3) × 2 + max(n − 3, 0) × 5'; `cap` bounds it. `score` is an
expression in `base`, `deductions`, `bonuses` and each rule's code (its points); by default
base − deductions + bonuses. Every name is resolved when the folder is loaded.

Counting costs a few statements for all units together (deadlines, cards, overdue work, one per
selection a rule counts), never one per unit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from db.repositories import assessment as repo
from db.repositories import figures as figures_repo
from db.repositories import organisation as org_repo
from engine.errors import DefinitionError
from engine.figures import FiguresSpec, InContext, _Evaluation
from engine.figures_grammar import Expr, GrammarError, Names, Scope, Value, compile_expr, number
from engine.localtime import start_of_local_day

BUILT_IN = ("late", "met", "overdue")
RULE_KEYS = frozenset({"title", "counts", "by", "workflows", "except", "deduct", "bonus", "cap"})
YEAR_KEYS = frozenset({"title", "base", "rules", "score"})
DEFAULT_SCORE = "base - deductions + bonuses"
SCORE_NAMES = ("base", "deductions", "bonuses")
# How the score formula reads on a page: its own three names and each rule's title stand for the codes.
SCORE_TITLES = {"base": "基础分", "deductions": "扣分合计", "bonuses": "加分合计", "max": "取大", "min": "取小",
                "round": "四舍五入"}


def score_text(rules: YearRules) -> str:
    """The score formula in words (得分 = 取大(0, 基础分 − 扣分合计 + 取小(加分合计, 5)))."""
    titles = {**SCORE_TITLES, **{code: rule.title for code, rule in rules.rules.items()}}
    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: titles.get(m.group(0), m.group(0)), str(rules.score.text))
YEAR_FIELD = "year"  # what a selection's `period: {in: year}` reads when a rule counts it


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    counts: str  # late | met | overdue | card:KIND | selection:NAME
    kind: str  # deduct | bonus
    points: Expr  # in n, the count
    cap: Decimal | None = None
    by: str | None = None
    workflows: tuple[str, ...] | None = None
    except_: tuple[str, ...] = ()

    @property
    def per_item(self) -> Decimal | None:
        """The points of one item, when the rule is a plain number per item."""
        try:
            return Decimal(self.points.text if isinstance(self.points.text, str) else str(self.points.text))
        except ArithmeticError:
            return None


@dataclass(frozen=True)
class YearRules:
    year: int
    title: str
    base: Decimal
    rules: dict[str, Rule]
    score: Expr


def read_assessment(doc: Any, source: str, selections: Mapping[str, Any], known: Any) -> dict[int, YearRules]:
    """The `assessment:` section: year → rules, every name resolved (known None: a stored spec)."""
    def fail(node: Any, problem: str) -> None:
        raise DefinitionError(source, getattr(node, "line", None), problem)

    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        fail(doc, "assessment maps a year to its rules, e.g. 2026: {base: 100, rules: {...}}")
    out: dict[int, YearRules] = {}
    for year, spec in doc.items():
        try:
            y = int(year)
        except (TypeError, ValueError):
            y = 0
        if not 2000 <= y <= 2999:
            fail(doc, f"assessment: {year!r} is not a year (2000–2999)")
        what = f"assessment {y}"
        if not isinstance(spec, Mapping):
            fail(doc, f"{what} must be a mapping of title, base, rules and score")
        extra = sorted(set(spec) - YEAR_KEYS)
        if extra:
            fail(spec, f"{what} has unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(YEAR_KEYS))}")
        base = number(spec.get("base", 100))
        if base is None:
            fail(spec, f"{what}: base must be a number (基础分)")
        raw_rules = spec.get("rules") or {}
        if not isinstance(raw_rules, Mapping):
            fail(spec, f"{what}: rules maps a code to a rule")
        rules: dict[str, Rule] = {}
        for code, r in raw_rules.items():
            rules[code] = _rule(fail, raw_rules, f"{what} rule {code!r}", str(code), r, selections, known)
        clash = set(rules) & set(SCORE_NAMES)
        if clash:
            fail(raw_rules, f"{what}: a rule may not be called {', '.join(sorted(clash))}")
        names = Names(frozenset(rules) | frozenset(SCORE_NAMES), frozenset(), frozenset(), {}, {})
        try:
            score = compile_expr(spec.get("score", DEFAULT_SCORE), names)
        except GrammarError as exc:
            raise DefinitionError(source, getattr(spec, "line", None), f"{what} score: {exc}") from exc
        out[y] = YearRules(y, str(spec.get("title") or f"{y}年度考核细则"), base, rules, score)
    return out


def _rule(fail, node: Any, what: str, code: str, r: Any, selections: Mapping[str, Any], known: Any) -> Rule:
    if not isinstance(r, Mapping):
        fail(node, f"{what} must be a mapping")
    extra = sorted(set(r) - RULE_KEYS)
    if extra:
        fail(r, f"{what} has unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(RULE_KEYS))}")
    counts = str(r.get("counts") or "")
    kind_of, _, name = counts.partition(":")
    by = r.get("by")
    if counts in BUILT_IN:
        if by is not None:
            fail(r, f"{what}: by is for counts: selection:NAME")
    elif kind_of == "card" and name:
        if by is not None:
            fail(r, f"{what}: a card counts against the role its definition names; by is not needed")
        if known is not None and name not in known.cards:
            fail(r, f"{what}: no event is marked card of kind {name!r}; kinds: {', '.join(sorted(known.cards)) or 'none'}")
    elif kind_of == "selection" and name:
        sel = selections.get(name)
        if sel is None:
            fail(r, f"{what}: unknown selection {name!r}; selections: {', '.join(sorted(selections)) or 'none'}")
        if sel.link_kind or sel.party_same_as:
            fail(r, f"{what}: selection {name!r} reads a case in context (link or same_as); a rule counts the "
                    "task force's cases per unit")
        if sel.period_in is not None and set(sel.period_in.fields) - {YEAR_FIELD}:
            fail(r, f"{what}: selection {name!r}'s period may read only {YEAR_FIELD} (the assessed year)")
        if not isinstance(by, str):
            fail(r, f"{what}: counts: selection:{name} needs by: ROLE (the party role the unit holds)")
        if known is not None and by not in known.roles[sel.workflow]:
            fail(r, f"{what}: {sel.workflow} has no party role {by!r}; roles: "
                    f"{', '.join(sorted(known.roles[sel.workflow]))}")
    else:
        fail(r, f"{what}: counts {counts!r} is not late, met, overdue, card:KIND or selection:NAME")
    workflows = r.get("workflows")
    except_ = r.get("except") or []
    if (workflows is not None or except_) and counts not in BUILT_IN:
        fail(r, f"{what}: workflows and except narrow late, met and overdue only")
    for wf in [*(workflows or []), *except_]:
        if known is not None and wf not in known.states:
            fail(r, f"{what}: unknown workflow {wf!r}; workflows: {', '.join(sorted(known.states))}")
    given = [k for k in ("deduct", "bonus") if k in r]
    if len(given) != 1:
        fail(r, f"{what}: give exactly one of deduct (扣分) or bonus (加分): points per item, or an expression in n")
    try:
        points = compile_expr(r[given[0]], Names(frozenset(), frozenset(), frozenset({"n"}), {}, {}))
    except GrammarError as exc:
        fail(r, f"{what} {given[0]}: {exc}")
    cap = None
    if r.get("cap") is not None:
        cap = number(r["cap"])
        if cap is None or cap < 0:
            fail(r, f"{what}: cap is the most points the rule gives or takes (a number ≥ 0)")
    return Rule(code, str(r.get("title") or code), counts, given[0], points, cap, by,
                tuple(workflows) if workflows is not None else None, tuple(except_))


# --- counting -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """One unit's record for a year: what every rule can count."""

    unit: str
    met: Counter = field(default_factory=Counter)  # workflow → deadlines met in time
    late: Counter = field(default_factory=Counter)  # workflow → deadlines met late or expired
    overdue: Counter = field(default_factory=Counter)  # workflow → open work past due now
    cards: Counter = field(default_factory=Counter)
    selected: Counter = field(default_factory=Counter)  # selection → cases the unit holds the rule's role on

    def count(self, rule: Rule) -> int:
        if rule.counts in BUILT_IN:
            per = getattr(self, rule.counts)
            return sum(n for wf, n in per.items()
                       if (rule.workflows is None or wf in rule.workflows) and wf not in rule.except_)
        kind, _, name = rule.counts.partition(":")
        return self.cards[name] if kind == "card" else self.selected[(name, rule.by)]


def year_window(year: int) -> tuple[datetime, datetime]:
    return start_of_local_day(date(year, 1, 1)), start_of_local_day(date(year + 1, 1, 1))


def card_events(conn: Connection, task_force: str) -> list[repo.CardEvent]:
    """(definition id, event, card kind, party role) for every event a definition marks as a card."""
    out = []
    for definition_id, spec in repo.card_event_specs(conn, task_force):
        for event in (spec or {}).get("events") or []:
            card = event.get("card")
            if card:
                out.append((definition_id, event["name"], card["kind"], card["against"]))
    return out


def _assessed(flag: Any) -> bool:
    # JSON false reads back as 'false' (PostgreSQL ->>) or 0 (SQLite json_extract); missing means assessed.
    return flag not in (False, 0, "0", "false")


def tallies(conn: Connection, task_force: str, since: datetime, until: datetime, now: datetime,
            selections: Iterable[tuple[Any, str]] = (), year: int | None = None) -> dict[str, Tally]:
    """Every unit's record for [since, until), in a few statements for all units: work overdue is
    counted at `now` (at `until` when that is earlier). `selections`: (Selection, role) pairs some rule
    of `year` counts."""
    out: dict[str, Tally] = {}

    def of(unit: str) -> Tally:
        return out.setdefault(unit, Tally(unit))

    for unit, workflow, outcome, assessed, n in repo.deadline_counts(conn, task_force, since, until):
        if _assessed(assessed):
            getattr(of(unit), outcome)[workflow] += n
    for unit, workflow, n in repo.overdue_counts(conn, task_force, min(now, until)):
        of(unit).overdue[workflow] += n
    for unit, kind, n in repo.card_counts(conn, task_force, since, until, card_events(conn, task_force)):
        of(unit).cards[kind] += n
    for sel, role in selections:
        narrowing = _narrowing(task_force, sel, year)
        if narrowing is None:
            continue
        for unit, n in figures_repo.count(conn, narrowing, role).items():
            of(unit).selected[(sel.name, role)] += n
    return out


def _narrowing(task_force: str, sel: Any, year: int) -> figures_repo.Narrowing | None:
    # A selection narrowed as the figures narrow it, with the assessed year as the case in context.
    run = _Evaluation(None, task_force, FiguresSpec(), InContext(0, "", {YEAR_FIELD: year}, {}))
    return run._narrow(sel)


# --- scoring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    code: str
    title: str
    kind: str  # deduct | bonus
    count: int
    points: Decimal  # ≥ 0: deducted or added


@dataclass(frozen=True)
class UnitScore:
    unit: str
    tally: Tally
    base: Decimal | None = None
    lines: tuple[Line, ...] = ()
    deductions: Decimal = Decimal(0)
    bonuses: Decimal = Decimal(0)
    score: Decimal | None = None

    @property
    def deadlines_met(self) -> int:
        return sum(self.tally.met.values())

    @property
    def deadlines_late(self) -> int:
        return sum(self.tally.late.values())

    @property
    def overdue_now(self) -> int:
        return sum(self.tally.overdue.values())

    @property
    def on_time_rate(self) -> float | None:
        done = self.deadlines_met + self.deadlines_late
        return self.deadlines_met / done if done else None


class _Points(Scope):
    def __init__(self, values: Mapping[str, Value]) -> None:
        self.values = values

    def figure(self, name: str) -> Value:
        return self.values[name]

    def field(self, name: str) -> Value:
        return self.values[name]


def _bounded(value: Value, cap: Decimal | None) -> Decimal:
    points = number(value) if not isinstance(value, dict) else None
    points = max(points or Decimal(0), Decimal(0))
    return min(points, cap) if cap is not None else points


def score_unit(rules: YearRules | None, tally: Tally) -> UnitScore:
    if rules is None:
        return UnitScore(tally.unit, tally)
    lines = []
    for rule in rules.rules.values():
        n = tally.count(rule)
        value = rule.points(_Points({"n": Decimal(n)}))
        if "n" not in rule.points.fields:  # points per item
            value = number(value) * n if number(value) is not None else None
        lines.append(Line(rule.code, rule.title, rule.kind, n, _bounded(value, rule.cap)))
    deductions = sum((ln.points for ln in lines if ln.kind == "deduct"), Decimal(0))
    bonuses = sum((ln.points for ln in lines if ln.kind == "bonus"), Decimal(0))
    names: dict[str, Value] = {"base": rules.base, "deductions": deductions, "bonuses": bonuses,
                               **{ln.code: ln.points for ln in lines}}
    score = number(rules.score(_Points(names)))
    return UnitScore(tally.unit, tally, rules.base, tuple(lines), deductions, bonuses, score)


def assess(conn: Connection, task_force: str, spec: Any, year: int, now: datetime) -> list[UnitScore]:
    """Every unit's score for `year` (units in code order): the task force's member units and any unit
    with a record. Without rules for the year, the record alone (no points)."""
    rules = spec.assessment.get(year)
    wanted = {(spec.selections[r.counts.partition(":")[2]], r.by) for r in (rules.rules.values() if rules else ())
              if r.counts.startswith("selection:")}
    found = tallies(conn, task_force, *year_window(year), now, wanted, year)
    if rules is not None:
        for unit, member, _ in org_repo.task_force_units(conn, task_force):
            if member:
                found.setdefault(unit, Tally(unit))
    return [score_unit(rules, found[u]) for u in sorted(found)]


@dataclass(frozen=True)
class Behind:
    """A case behind a count: the case, and when (the deadline's outcome, the card, the due date)."""

    case_id: int
    number: str
    title: str
    at: datetime | None


def behind(conn: Connection, task_force: str, spec: Any, year: int, now: datetime, unit: str | None,
           rule: Rule, cards: list[repo.CardEvent] | None = None) -> dict[str, list[Behind]]:
    """Unit → the cases its count of `rule` is made of, one row per item counted (`unit` None: every
    unit's, in one statement)."""
    since, until = year_window(year)
    if rule.counts in ("late", "met"):
        rows = [r[:5] for r in repo.deadline_cases(conn, task_force, since, until, unit, rule.counts, rule.workflows,
                                                   rule.except_) if _assessed(r[5])]
    elif rule.counts == "overdue":
        rows = repo.overdue_cases(conn, task_force, min(now, until), unit, rule.workflows, rule.except_)
    elif rule.counts.startswith("card:"):
        rows = repo.card_cases(conn, task_force, since, until,
                               cards if cards is not None else card_events(conn, task_force), unit,
                               rule.counts.partition(":")[2])
    else:
        narrowing = _narrowing(task_force, spec.selections[rule.counts.partition(":")[2]], year)
        rows = [] if narrowing is None else figures_repo.cases_held(conn, narrowing, rule.by, unit)
    out: dict[str, list[Behind]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(Behind(*r[1:]))
    return out


def behind_all(conn: Connection, task_force: str, spec: Any, year: int, now: datetime,
               unit: str | None) -> dict[str, dict[str, list[Behind]]]:
    """Rule code → unit → the cases behind the unit's count (the year's rules; none declared: empty).
    One statement per rule, for one unit or (None) for all of them."""
    rules = spec.assessment.get(year)
    if rules is None:
        return {}
    cards = card_events(conn, task_force)
    return {code: behind(conn, task_force, spec, year, now, unit, rule, cards) for code, rule in rules.rules.items()}


def unit_names(conn: Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in org_repo.units(conn)}
