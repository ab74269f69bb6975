"""A year of one task force's mechanism, driven through the engine's public services from a data file.

The clock is injected and walks day by day: at 00:05 the cadences open the period's duties, during the
working day the units act on their cases, at 23:54 the timers fire. What people do is read from
`workflows/<task force>/simulation.yaml`: per workflow, the events someone may fire, by whom, when
(days after the state was entered, or around the due date), how often late or never, with what weight
and payload. The driver knows no graph: for a case it takes the declared events the engine says are
open now (`Cases.open_events` for the step's actor) and draws one by weight. Every random choice comes
from one RNG seeded by `--seed`, and cases are visited in id order, so (file, year, seed) gives the
same year. One unit, drawn by the seed, is persistently late.
"""

from __future__ import annotations

import random
import time as _time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from db.models import Case, CaseHistory, CaseLink, Definition, TaskForce, TaskForceUnit, Unit
from db.repositories import units as units_repo
from db.repositories.cases import CaseRow
from engine.actors import Actor
from engine.cadences import materialise
from engine.cases import Cases
from engine.clock import FixedClock
from engine.errors import EngineError
from engine.localtime import LOCAL_TZ, end_of_local_day, local_date
from engine.scheduler import all_cadences, fire_through
from engine.views import due_items, links, scorecards
from simulation.values import Scope, Unavailable, check, condition, value

FILE = "simulation.yaml"
STEP_KEYS = {"event", "by", "in", "when", "late", "never", "weight", "priority", "if", "payload", "then", "before_open"}


class SimulationFileError(ValueError):
    """The simulation file is malformed; every problem at once."""


@dataclass(frozen=True)
class Step:
    """One event someone may fire on a case of a workflow, as the file declares it."""

    event: str
    by: str
    states: frozenset[str] | None = None
    when: tuple = ("entered", 1, 3)
    late: float = 0.0
    never: float = 0.0
    weight: float = 1.0
    priority: int = 0
    cond: Any = None
    payload: Any = None
    then: tuple = ()
    before_open: bool = False  # planned while a guard on time still refuses it (held on the meeting's day)


@dataclass
class Plan:
    version: int
    at: datetime | None
    step: Step | None
    refusals: int = 0
    recheck: date | None = None  # nothing applies yet: look again then


def read(folder: Path) -> dict[str, Any]:
    """The task force's simulation file, checked: step keys, generator names."""
    path = folder / FILE
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    errors = []
    for workflow, steps in (spec.get("workflows") or {}).items():
        for i, step in enumerate(steps):
            where = f"{path.name}: workflows.{workflow}[{i}]"
            if not {"event", "by"} <= set(step):
                errors.append(f"{where}: a step needs event and by")
            errors += [f"{where}: unknown key {k}" for k in set(step) - STEP_KEYS]
            errors += check(step.get("payload"), where)
    errors += check(spec.get("initiatives"), f"{path.name}: initiatives")
    if errors:
        raise SimulationFileError("\n".join(errors))
    return spec


def _steps(spec: dict[str, Any]) -> dict[str, list[Step]]:
    out: dict[str, list[Step]] = {}
    for workflow, steps in (spec.get("workflows") or {}).items():
        out[workflow] = [Step(
            event=s["event"], by=s["by"], states=frozenset(s["in"]) if s.get("in") else None,
            when=tuple(s.get("when", ("entered", 1, 3))), late=s.get("late", 0.0), never=s.get("never", 0.0),
            weight=s.get("weight", 1.0), priority=s.get("priority", 0), cond=s.get("if"), payload=s.get("payload"),
            then=tuple(s.get("then") or ()), before_open=s.get("before_open", False)) for s in steps]
    return out


@dataclass
class Report:
    year: int
    seed: int
    task_force: str = ""
    milestones_spec: tuple = ()
    card_columns: tuple = ()  # (card kind, column title) from the file's `cards`
    until: date | None = None
    seconds: float = 0.0
    events: int = 0
    refused: Counter = field(default_factory=Counter)
    by_state: Counter = field(default_factory=Counter)
    overdue: Counter = field(default_factory=Counter)
    late: Counter = field(default_factory=Counter)  # deadlines missed during the year
    cards: dict[str, Counter] = field(default_factory=dict)
    unit_names: dict[str, str] = field(default_factory=dict)
    links: Counter = field(default_factory=Counter)
    stubborn: str = ""
    problems: list[str] = field(default_factory=list)
    timers: Counter = field(default_factory=Counter)
    milestones: Counter = field(default_factory=Counter)

    def render(self) -> str:
        span = f"{self.year}" if self.until == date(self.year, 12, 31) else f"{self.year} to {self.until}"
        labels = [m["label"] for m in self.milestones_spec]
        out = [f"gongzhi simulate — {self.task_force} {span}, seed {self.seed}: {self.seconds:.1f} s",
               f"{self.events} events fired by people, {self.timers['fired']} by the clock "
               f"({self.timers['expired']} expiries, {self.timers['ladders_opened']} ladders opened); "
               f"persistently late: {self.unit_names.get(self.stubborn, self.stubborn)}",
               "Milestones: " + ", ".join(f"{label} {self.milestones[label]}" for label in labels), "",
               "Cases by workflow and final state", f"{'workflow':<20}{'state':<26}{'cases':>6}"]
        for (workflow, state), n in sorted(self.by_state.items()):
            out.append(f"{workflow:<20}{state:<26}{n:>6}")
        out.append(f"{'total':<46}{sum(self.by_state.values()):>6}")
        columns = ("overdue", "missed", *(title for _, title in self.card_columns))
        out += ["", f"Late units: items overdue at the end of {self.until} (by the lead unit of the late role), "
                "deadlines missed during the year, and the ladder's cards",
                _pad("unit", 24) + "".join(_pad(c, 8, right=True) for c in columns)]
        units = {u for u in set(self.overdue) | set(self.late) | set(self.cards)
                 if self.overdue[u] or self.late[u] or sum(self.cards.get(u, Counter()).values())}
        for unit in sorted(units, key=lambda u: (-self.overdue[u], -self.late[u], u)):
            c = self.cards.get(unit, Counter())
            values = (self.overdue[unit], self.late[unit], *(c[kind] for kind, _ in self.card_columns))
            out.append(_pad(self.unit_names.get(unit, unit), 24) + "".join(_pad(str(v), 8, right=True) for v in values))
        out.append(_pad("total", 24) + _pad(str(sum(self.overdue.values())), 8, right=True)
                   + _pad(str(sum(self.late.values())), 8, right=True))
        out += ["", "Links between cases: " + ", ".join(f"{k} {n}" for k, n in sorted(self.links.items()))]
        if self.refused:
            out.append("Refused attempts (retried later): " + ", ".join(f"{k} {n}" for k, n in
                                                                         sorted(self.refused.items())))
        out.append("verify: " + ("OK, every case replays to its state and every hash chain holds" if not self.problems
                                 else f"{len(self.problems)} problem(s): {self.problems[:3]}"))
        return "\n".join(out)


def _pad(text: str, width: int, right: bool = False) -> str:
    """Justify in `width` terminal columns, a CJK character taking two."""
    fill = " " * max(1, width - len(text) - sum(1 for ch in text if ord(ch) > 0x2E80))
    return fill + text if right else text + fill


class Sim:
    """The state of one simulated year: clock, RNG, plans per case."""

    def __init__(self, cases: Cases, clock: FixedClock, tf: str, spec: dict[str, Any], year: int, seed: int) -> None:
        self.cases, self.clock, self.tf, self.spec, self.year = cases, clock, tf, spec, year
        self.steps = _steps(spec)
        self.pools: dict[str, list] = spec.get("pools") or {}
        self.rng = random.Random(seed)
        self.plans: dict[int, Plan] = {}
        self.today = date(year, 1, 1)
        self.tick = 0
        self.report = Report(year, seed, milestones_spec=tuple(spec.get("milestones") or ()),
                             card_columns=tuple((c["kind"], c["title"]) for c in spec.get("cards") or ()))
        with cases.db.read() as conn:
            codes = list(conn.execute(select(TaskForceUnit.unit_code).where(TaskForceUnit.task_force_code == tf))
                         .scalars())
            office = {a["unit"] for a in (spec.get("actors") or {}).values() if "unit" in a}
            self.members = frozenset(conn.execute(select(TaskForceUnit.unit_code).where(
                TaskForceUnit.task_force_code == tf, TaskForceUnit.member)).scalars()) - office
            self.units = units_repo.facts(conn, codes)
            self.names = dict(conn.execute(select(Unit.code, Unit.short_name).where(Unit.code.in_(codes))).all())
            self.report.task_force = conn.execute(select(TaskForce.short_name).where(TaskForce.code == tf)
                                                  ).scalar_one()
        stubborn = spec.get("stubborn") or {}
        self.stubborn = self.rng.choice(self.unit_set(stubborn["set"])) if stubborn else ""
        self.stubborn_never = stubborn.get("never", 0.0)
        self.report.stubborn, self.report.unit_names = self.stubborn, self.names

    # -- what values and conditions read --

    def now(self) -> datetime:
        return self.clock.now()

    def name(self, unit: str) -> str:
        return self.names.get(unit, unit)

    def unit_set(self, name: str) -> list[str]:
        """A named set of units: a list, or {kind, except} over the task force's units (sorted)."""
        rule = (self.spec.get("unit_sets") or {})[name]
        if isinstance(rule, list):
            return list(rule)
        return sorted(u for u, (kind, top) in self.units.items()
                      if kind == rule["kind"] and top and u not in set(rule.get("except", ())))

    def member(self, unit: str) -> Actor:
        roles = self.spec.get("member_roles") or {}
        kind = self.units.get(unit, ("",))[0]
        return Actor.of(f"sim-{unit}", unit, *roles.get(kind, roles.get("default", ["member"])),
                        name=f"{self.name(unit)}联络员")

    def actor(self, who: str, case: CaseRow | None) -> Actor:
        """`party:<role>` (a liaison of the unit holding it), or a named actor of the file."""
        if who.startswith("party:"):
            return self.member(case.parties[who.split(":", 1)[1]][0])
        a = self.spec["actors"][who]
        unit = case.parties[a["party"]][0] if "party" in a else a["unit"]
        return Actor.of(f"sim-{who}-{unit}", unit, *a["roles"], name=a.get("name", ""))

    def workday(self, day: date) -> date:
        cal = self.cases.deadlines.calendar
        return day if cal.is_working_day(day) else cal.next_working_day(day)

    def case_by_number(self, number: str) -> CaseRow:
        with self.cases.db.read() as conn:
            case_id = conn.execute(select(Case.id).where(Case.number == number)).scalar_one()
            return self.cases.load(conn, case_id)

    def last(self, case: CaseRow, key: str) -> Any:
        """A value from the case's latest event payload that carried it."""
        with self.cases.db.read() as conn:
            rows = self.cases.history(conn, case.id)
        for row in reversed(rows):
            if key in row.payload:
                return row.payload[key]
        return None

    def link_kinds(self, case: CaseRow) -> set[str]:
        with self.cases.db.read() as conn:
            return {kind for _, kind, _, _ in links(conn, case.id)}

    def query(self, name: str, case: CaseRow | None) -> list[str]:
        """Case numbers a named query of the file finds (in id order)."""
        q = self.spec["queries"][name]
        stmt = (select(Case.number).join(Definition, Definition.id == Case.definition_id)
                .where(Case.task_force_code == self.tf, Definition.name == q["workflow"], Case.state.in_(q["states"])))
        if "due_within_days" in q:
            soon = datetime.combine(self.today + timedelta(days=q["due_within_days"]), time(0), tzinfo=LOCAL_TZ)
            stmt = stmt.where(Case.due_at <= soon).order_by(Case.due_at, Case.id)
        else:
            stmt = stmt.order_by(Case.id)
        with self.cases.db.read() as conn:
            numbers = list(conn.execute(stmt).scalars())
            if "not_used" in q and case is not None:  # not yet named by this case's earlier events
                used = {row.payload.get(q["not_used"]["key"]) for row in self.cases.history(conn, case.id)
                        if row.event == q["not_used"]["event"]}
                numbers = [n for n in numbers if n not in used][:max(0, q.get("at_most", len(numbers)) - len(used))]
        return numbers

    def start_from(self, spec: dict[str, Any], scope: Scope) -> CaseRow:
        """Open a case as the file describes it: workflow, by, title, parties, payload."""
        for name, v in (spec.get("let") or {}).items():
            scope = scope.bind(**{name: value(v, scope)})
        by = spec["by"]
        actor = self.member(value(by["member"], scope)) if isinstance(by, dict) else self.actor(by, scope.case)
        self._advance()
        with self.cases.db.write() as conn:
            return self.cases.start(conn, task_force=self.tf, workflow=spec["workflow"], actor=actor,
                                    title=value(spec["title"], scope), payload=value(spec.get("payload") or {}, scope),
                                    parties=value(spec.get("parties"), scope))

    # -- planning and acting --

    def plan(self, case: CaseRow, workflow: str) -> Plan:
        declared = [s for s in self.steps.get(workflow, ()) if s.states is None or case.state in s.states]
        candidates: list[Step] = []
        waiting = False
        with self.cases.db.read() as conn:
            machine = self.cases.machine(conn, case.definition_id)
            for s in declared:
                try:
                    actor = self.actor(s.by, case)
                except (KeyError, IndexError):  # the party that would act is not on the case: nobody acts
                    continue
                if s.event not in machine.allowed(case.state, actor.roles_on(case.parties)):
                    continue
                waiting = True
                if (s.before_open or s.event in self.cases.open_events(conn, case, actor)) and condition(
                        s.cond, Scope(self, case)):
                    candidates.append(s)
        if not candidates:
            return Plan(case.version, None, None, recheck=self.today + timedelta(days=7) if waiting else None)
        top = max(s.priority for s in candidates)
        candidates = [s for s in candidates if s.priority == top]
        step = self.rng.choices(candidates, [s.weight for s in candidates])[0]
        kind, *days = step.when
        entered = max(local_date(case.state_entered_at), self.today)
        if kind == "due" and case.due_at is not None:
            day = local_date(case.due_at) + timedelta(days=self.rng.randint(*days))
        elif kind == "field":
            raw = case.data.get(days[0]) or self.last(case, days[0])
            day = date.fromisoformat(raw[:10])
        else:
            day = entered + timedelta(days=self.rng.randint(*days) if kind == "entered" else 0)
        acting = self.actor(step.by, case).unit
        never = step.never + (self.stubborn_never if acting == self.stubborn and step.late else 0)
        roll = self.rng.random()
        if roll < never:
            return Plan(case.version, None, step)
        if roll < never + step.late and case.due_at is not None:
            day = local_date(case.due_at) + timedelta(days=self.rng.randint(3, 45))
        day = self.workday(max(day, self.today))
        return Plan(case.version, datetime.combine(day, time(9), tzinfo=LOCAL_TZ), step)

    def _advance(self) -> None:
        self.tick += 1
        self.clock.set(datetime.combine(self.today, time(9), tzinfo=LOCAL_TZ) + timedelta(seconds=self.tick))

    def act(self) -> None:
        """Everyone does what is planned for today; what today's steps opened or moved may follow today."""
        for _ in range(4):
            if not self._pass():
                return

    def _pass(self) -> int:
        with self.cases.db.read() as conn:
            rows = conn.execute(select(Case.id, Definition.name, Case.version)
                                .join(Definition, Definition.id == Case.definition_id)
                                .where(Case.task_force_code == self.tf, Case.closed.is_(False)).order_by(Case.id)).all()
        end_of_day = datetime.combine(self.today, time(18), tzinfo=LOCAL_TZ)
        acted = 0
        for case_id, workflow, version in rows:
            plan = self.plans.get(case_id)
            if plan is None or plan.version != version or (plan.recheck and plan.recheck <= self.today):
                with self.cases.db.read() as conn:
                    planned = self.cases.load(conn, case_id)
                plan = self.plans[case_id] = self.plan(planned, workflow)
            if plan.at is None or plan.at > end_of_day or plan.step is None:
                continue
            acted += 1
            with self.cases.db.read() as conn:
                case = self.cases.load(conn, case_id)
            if case.version != plan.version:  # moved since it was planned (e.g. its ladder was cancelled)
                continue
            step = plan.step
            self._advance()
            try:
                payload = value(step.payload or {}, Scope(self, case))
                with self.cases.db.write() as conn:
                    self.cases.fire(conn, case, step.event, self.actor(step.by, case), payload)
            except (EngineError, Unavailable) as exc:
                self.report.refused[f"{workflow}.{step.event}: {getattr(exc, 'code', 'unavailable')}"] += 1
                plan.refusals += 1
                plan.at = None if plan.refusals >= 4 else datetime.combine(
                    self.workday(self.today + timedelta(days=7)), time(9), tzinfo=LOCAL_TZ)
                continue
            self.report.events += 1
            if step.then:
                with self.cases.db.read() as conn:
                    moved = self.cases.load(conn, case_id)
                self._then(step.then, Scope(self, moved))
        return acted

    def _then(self, hooks: tuple, scope: Scope) -> None:
        """What follows an event outside its case: {if, chance, start}."""
        for hook in hooks:
            if not condition(hook.get("if"), scope):
                continue
            if "chance" in hook and self.rng.random() > hook["chance"]:
                continue
            self.start_from(hook["start"], scope)

    def own_initiatives(self) -> None:
        """What nobody's calendar creates: the file's `initiatives` (on a day, in some months, by chance)."""
        for item in self.spec.get("initiatives") or ():
            on = item["on_day"]
            if self.today.day != on["day"] or self.today.month not in (on.get("months") or [on.get("month")]):
                continue
            if "chance" in item and self.rng.random() >= item["chance"]:
                continue
            self.start_from(item["start"], Scope(self, None))

    def run(self, cadences, last: date) -> None:
        while self.today <= last:
            self.clock.set(datetime.combine(self.today, time(0, 5), tzinfo=LOCAL_TZ))
            materialise(self.cases, self.tf, cadences, self.today, self.today)
            self.tick = 0
            if self.cases.deadlines.calendar.is_working_day(self.today):
                self.own_initiatives()
                self.act()
            # Everything due today fires today, each at its own time (an end-of-day deadline at 23:59:59).
            fired = fire_through(self.cases, self.clock, datetime.combine(self.today, time(23, 54), tzinfo=LOCAL_TZ),
                                 end_of_local_day(self.today))
            for name in ("fired", "expired", "warnings", "ladders_opened", "dropped"):
                self.report.timers[name] += getattr(fired, name)
            self.today += timedelta(days=1)


def run(cases: Cases, clock: FixedClock, *, task_force: str, year: int, seed: int, root: Path,
        until: date | None = None) -> Report:
    """Simulate `year` (to `until`, default its last day) on an empty task force from its simulation file;
    returns the summary and leaves the cases in the database."""
    started = _time.perf_counter()
    spec = read(root / task_force)
    sim = Sim(cases, clock, task_force, spec, year, seed)
    last = until or date(year, 12, 31)
    sim.run(all_cadences(root).get(task_force, []), last)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
    report = sim.report
    report.until = last
    tf = task_force
    with cases.db.read() as conn:
        for workflow, state, n in conn.execute(
                select(Definition.name, Case.state, func.count()).join(Definition, Definition.id == Case.definition_id)
                .where(Case.task_force_code == tf).group_by(Definition.name, Case.state)):
            report.by_state[(workflow, state)] = n
        for item in due_items(conn, end, task_force=tf, overdue_only=True):
            report.overdue[item.unit] += 1
        start = datetime.combine(date(year, 1, 1), time(0), tzinfo=LOCAL_TZ)
        for unit, card in scorecards(conn, tf, start, end).items():
            report.late[unit] = card.deadlines_late
            report.cards[unit] = card.cards
        for kind, n in conn.execute(select(CaseLink.kind, func.count()).group_by(CaseLink.kind)):
            report.links[kind] = n
        counted = conn.execute(
            select(Definition.name, CaseHistory.event, func.count()).join(Case, Case.id == CaseHistory.case_id)
            .join(Definition, Definition.id == Case.definition_id)
            .where(Case.task_force_code == tf, CaseHistory.kind == "event").group_by(Definition.name, CaseHistory.event))
        fired = {(w, e): n for w, e, n in counted}
        for m in report.milestones_spec:
            report.milestones[m["label"]] = fired.get((m["workflow"], m["event"]), 0)
        report.problems = cases.verify(conn)
    report.seconds = _time.perf_counter() - started
    return report
