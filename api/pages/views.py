"""What each page shows, built from the engine's services and the access rules the JSON routes use.

Route functions call these; these read through `CaseAccess`, `engine.views` and the repositories.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from api.pages.forms import Widget, typed_values, widgets
from api.pages.render import days_left, zh_date, zh_datetime
from db.repositories import assignments as assign_repo
from db.repositories import attachments as attachments_repo
from db.repositories import case_queries
from db.repositories import cases as cases_repo
from db.repositories import organisation as org_repo
from db.repositories import time as time_repo
from db.repositories.case_queries import CaseFilter
from documents import excel
from engine import delegation, views, worklist
from engine.access import CaseAccess
from engine.acting import ACTOR_NAME, ON_BEHALF_OF, user_id_of
from engine.assessment import assess, behind_all, score_text
from engine.assignment import NOTES as WORK_NOTES
from engine.deadlines import provisional_dues, provisional_reason
from engine.definition import DUE_SOON_DAYS, Definition, FieldSpec
from engine.localtime import LOCAL_TZ, moment_of, to_local
from engine.notices import CLOCK_NOTES
from engine.periods import period_title

FAR = datetime(2999, 1, 1, tzinfo=UTC)
# The card a ladder level reads as; which states are at which level is the definitions' (a state's
# `colour`), so a mechanism whose ladder uses other names colours its own states.
CARDS = {"red": "红牌", "yellow": "黄牌"}
# The data key a meeting's set time is recorded under (the calendar shows the meeting on that day).
MEETING_TIME = "meeting_at"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    short_name: str
    kind: str
    jurisdiction: str
    duties: str


class Organisation:
    """The viewer's task force's units, by code."""

    def __init__(self, conn: Connection, task_force: str) -> None:
        self.units = {r[0]: Unit(r[0], r[1], r[2], r[3], r[4], r[5] or "")
                      for r in org_repo.task_force_unit_facts(conn, task_force)}
        names = {r[0]: r[2] for r in org_repo.units(conn)}
        self.names = {**names, **{c: u.short_name for c, u in self.units.items()}}
        self.jurisdictions = {r[0]: (r[1], r[2]) for r in org_repo.jurisdictions(conn)}

    def name(self, code: str | None) -> str:
        return self.names.get(code or "", code or "")

    def place(self, jurisdiction: str | None) -> tuple[str, ...]:
        """A jurisdiction's names from the city level down (the province, the root, is left out)."""
        chain = []
        while jurisdiction is not None and jurisdiction in self.jurisdictions:
            chain.append(self.jurisdictions[jurisdiction][0])
            jurisdiction = self.jurisdictions[jurisdiction][1]
        chain.reverse()
        return tuple(chain[1:]) or tuple(chain)

    def unit_groups(self) -> list[tuple[str, list[Unit]]]:
        """The task force's units grouped by where they sit (贵阳市 · 清镇市), the city's own first."""
        groups: dict[tuple[str, ...], list[Unit]] = defaultdict(list)
        for u in sorted(self.units.values(), key=lambda u: u.code):
            groups[self.place(u.jurisdiction)].append(u)
        return [(" · ".join(place) or "其他", units) for place, units in sorted(groups.items())]

    def top_jurisdiction(self, unit: str) -> str:
        """The name of the city-level jurisdiction a unit sits in (贵阳市, 安顺市, 贵安新区)."""
        here = self.units[unit].jurisdiction if unit in self.units else None
        chain = []
        while here is not None and here in self.jurisdictions:
            chain.append(here)
            here = self.jurisdictions[here][1]
        # the root is the province; the level below it is the city
        return self.jurisdictions[chain[-2]][0] if len(chain) >= 2 else (
            self.jurisdictions[chain[-1]][0] if chain else "")


@dataclass
class WorkItem:
    case_id: int
    number: str
    title: str
    workflow: str
    state: str
    due_at: datetime | None
    days: int | None
    colour: str  # green | yellow | red | overdue
    card: str  # 黄牌 / 红牌 / ""
    # what there is to do: the titles of the events open to me ("签收、申请退回"), else the deadline I owe
    todo: str = ""
    provisional: str = ""  # why the due date is only provisional (暂定：…), else ""
    # 分办 inside my unit: "" (mine, or not yet assigned), "代张三办理", "已分办给王五"; `rank` orders by it
    assignment: str = ""
    rank: int = 1
    also: str = ""  # the titles of the optional events also open to me (“亦可：回头看”)
    received: datetime | None = None  # when the case entered the state that awaits me
    fresh: bool = False  # 新到: changed since my last sitting at 我的待办


def state_colour(conn: Connection, access: CaseAccess, row: Any) -> str:
    """The alarm the case's own state raises ("" | yellow | red), as its definition declares."""
    if row.closed:
        return ""
    return _colour_of(conn, access, row.definition_id, row.state)


def _colour_of(conn: Connection, access: CaseAccess, definition_id: int, state: str) -> str:
    spec = access.cases.machine(conn, definition_id).definition.states.get(state)
    return spec.colour if spec else ""


def ladder_levels(conn: Connection, access: CaseAccess, rows: list[Any]) -> dict[int, str]:
    """Case id → the highest alarm of the case and the open cases linked to it (its supervision):
    "" | yellow | red — for a page of cases in two statements, not two per case."""
    linked = case_queries.linked_open_states(conn, [r.id for r in rows])
    out = {}
    for row in rows:
        levels = {state_colour(conn, access, row)}
        levels.update(_colour_of(conn, access, d, s) for d, s in linked.get(row.id, ()))
        out[row.id] = "red" if "red" in levels else ("yellow" if "yellow" in levels else "")
    return out


def ladder_level(conn: Connection, access: CaseAccess, row: Any) -> str:
    """The ladder level of one case (see ladder_levels)."""
    return ladder_levels(conn, access, [row])[row.id]


def colour(days: int | None, level: str, soon: int = DUE_SOON_DAYS) -> str:
    """The one colour every page gives a case: its ladder level first, then its days left."""
    if level == "red" or level == CARDS["red"] or (days is not None and days < 0):
        return "red"
    if level == "yellow" or level == CARDS["yellow"] or (days is not None and days <= soon):
        return "yellow"
    return "green"


WORK_SORTS = {"due": "按期限", "received": "按收到时间", "workflow": "按类型"}


@dataclass
class WorkPage:
    """One page of 我的待办, with the counters and the size of the whole list."""

    items: list[WorkItem]
    total: int
    counts: dict[str, int]
    fresh: int  # how many of the whole list are 新到


def _work_key(sort: str, titles: dict[int, str]):
    def key(a: worklist.Actionable):
        r = a.record
        due = (r.due_at is None, r.due_at or FAR)
        if sort == "received":  # newest arrival first: when the case entered the state that awaits me
            return (-r.state_entered_at.timestamp(), r.id)
        if sort == "workflow":
            return (titles[a.case_id], *due, r.id)
        return (*due, r.id)
    return key


def my_work(conn: Connection, access: CaseAccess, now: datetime, *, sort: str = "due", page: int = 1,
            per_page: int = 50, since: datetime | None = None) -> WorkPage:
    """Every open case where I am awaited to act now (an awaited event open to my unit or a role I
    hold), sorted, one page of it drawn in full; the counters and 新到 (changed after `since`) count
    the whole list."""
    acts = worklist.actionable(conn, access, judge=False)
    titles = {a.case_id: access.machine(conn, a.record).definition.title for a in acts}
    by = _work_key(sort if sort in WORK_SORTS else "due", titles)
    ranks = assignment_ranks(conn, access, [a.case_id for a in acts])
    acts.sort(key=lambda a: (ranks.get(a.case_id, (1, ""))[0], by(a)))
    days = {a.case_id: days_left(a.record.due_at, now) for a in acts}
    counts = {"overdue": sum(1 for d in days.values() if d is not None and d < 0),
              "today": sum(1 for d in days.values() if d == 0),
              "week": sum(1 for d in days.values() if d is not None and 0 <= d <= 7)}
    latest = case_queries.latest_history_at(conn, [a.case_id for a in acts]) if since else {}
    fresh = {c for c, at in latest.items() if at > since} if since else set()
    shown = worklist.judged(conn, access, acts[(page - 1) * per_page: page * per_page])
    provisional = provisional_dues(conn, [a.case_id for a in shown])
    out = []
    levels = ladder_levels(conn, access, [a.record for a in shown])
    for a in shown:
        record = a.record
        d = access.machine(conn, record).definition
        level = levels[record.id]
        rank, assignment = ranks.get(a.case_id, (1, ""))
        item = WorkItem(a.case_id, record.number, record.title, d.title, d.states[record.state].title,
                        record.due_at, days[a.case_id], colour(days[a.case_id], level, d.due_soon_days),
                        CARDS.get(level, ""), "、".join(a.titles), provisional.get(a.case_id, ""),
                        assignment, rank)
        item.also = "、".join(a.also)
        item.received = record.state_entered_at
        item.fresh = a.case_id in fresh
        out.append(item)
    return WorkPage(out, len(acts), counts, len(fresh))


def assignment_ranks(conn: Connection, access: CaseAccess, case_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Mine first (assigned to me, or to someone I stand in for today: 代X办理), then my unit's unassigned
    work, then what the unit has handed to a colleague (已分办给X) — still listed, because its deadlines
    are still the unit's and whoever handed it out follows it up from here. Unassigned cases are absent
    (rank 1)."""
    viewer = access.viewer
    if viewer.unit is None or not case_ids:
        return {}
    assigned = assign_repo.assignees_in_unit(conn, case_ids, viewer.unit)
    me = user_id_of(viewer.id)
    standing_in = delegation.delegators_for(conn, viewer, access.cases.clock)
    out = {}
    for case_id, a in assigned.items():
        if a.user_id == me:
            out[case_id] = (0, "")
        elif a.user_id in standing_in:
            out[case_id] = (0, f"代{a.name}办理")
        else:
            out[case_id] = (2, f"已分办给{a.name}")
    return out


def my_open_cases(conn: Connection, access: CaseAccess, now: datetime, *, workflow: str | None = None,
                  unit: str | None = None, state: str | None = None, limit: int | None = 100,
                  due_from: datetime | None = None, due_before: datetime | None = None,
                  or_holding: str | None = None) -> list[dict[str, Any]]:
    """Open cases I may see, most recently handled first; `limit=None` reads every one in scope (the office's
    lists must not drop cases silently). Each carries its record, so callers need not read it again."""
    f = CaseFilter(workflow=workflow, state=state, closed=False, unit=unit, sort="-updated_at", limit=limit,
                   due_from=due_from, due_before=due_before, or_holding=or_holding)
    records, _ = access.search(conn, f, now)
    provisional = provisional_dues(conn, [r.id for r in records if r.due_at is not None])
    out = []
    for r in records:
        d = access.machine(conn, r).definition
        out.append({"record": r, "id": r.id, "number": r.number, "title": r.title, "workflow": d.title,
                    "workflow_name": r.workflow, "state": d.states[r.state].title, "state_name": r.state,
                    "due_at": r.due_at, "days": days_left(r.due_at, now) if r.due_at else None,
                    "provisional": provisional.get(r.id, "")})
    return out


def field_specs(d: Definition) -> dict[str, FieldSpec]:
    """Every field the definition declares, by name (the first declaration wins)."""
    specs = {f.name: f for f in d.create.fields}
    for ev in d.events.values():
        for f in ev.fields:
            specs.setdefault(f.name, f)
    return specs


@dataclass
class EventForm:
    name: str
    title: str
    to_state: str
    fields: list[Widget]
    # What the form starts with: what the case recorded when this event was done before (a re-draft).
    values: dict[str, Any] = field(default_factory=dict)


# How many cases a case picker offers (the most recently changed first).
CASE_CHOICES = 200


def case_choices(conn: Connection, access: CaseAccess, now: datetime, ev: Any) -> dict[str, list[tuple[str, str]]]:
    """Fields of an event that name another case (a `case_ref` guard): the cases the viewer may see
    that the guard would take, as (number, title)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for g in ev.guards:
        if g.name != "case_ref":
            continue
        args = g.kwargs()
        states = set(args.get("states") or ())
        records, _ = access.search(conn, CaseFilter(workflow=args.get("workflow"), limit=CASE_CHOICES), now)
        out[args["field"]] = [(r.number, r.title) for r in records if not states or r.state in states]
    return out


def lead_in(history: list[Any], state: str, d: Definition, titles: dict[str, str], specs: dict[str, FieldSpec],
            org: Organisation, data: dict[str, Any]) -> dict[str, Any] | None:
    """The event that brought the case into its current state, with what it said that the case's
    facts do not already show (an objection's reasons beside the office's ruling on it)."""
    for h in reversed(history):
        if h.to_state == state and h.from_state != state and h.kind != "create":
            ev = d.events.get(h.event)
            details = [(titles.get(k, k), shown(v, specs.get(k), org)) for k, v in h.payload.items()
                       if k in titles and v not in (None, "", []) and data.get(k) != v]
            if ev is None or not details:
                return None
            return {"what": ev.title or ev.name, "at": h.at, "details": details,
                    "who": org.name(h.actor_unit) if h.actor_unit else "系统"}
        if h.to_state != state:
            return None
    return None


@dataclass
class CasePage:
    id: int
    number: str
    title: str
    description: str
    workflow: str
    state: str
    closed: bool
    version: int
    due_at: datetime | None
    days: int | None
    parties: list[tuple[str, list[str]]]
    data: list[tuple[str, Any]]
    timeline: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    documents: list[Any]
    evidence: list[Any]
    links: list[dict[str, Any]]
    events: list[EventForm]
    units: list[tuple[str, list[Unit]]] = field(default_factory=list)  # grouped by place
    may_add_evidence: bool = False
    due_provisional: str = ""  # why the current due date is only provisional, else ""
    lead_in: dict[str, Any] | None = None  # the event that led into the current state, with its data
    # Steps my roles allow here that a guard refuses for now (a meeting before its time): (title, why).
    refused_now: list[tuple[str, str]] = field(default_factory=list)
    colour: str = "green"  # of its current due date and ladder level, as every page shows it
    card: str = ""  # 黄牌 / 红牌 / ""


DEADLINE_STATUS = {"running": "计时中", "paused": "已暂停", "met": "期限内已办理", "late": "超期后办理",
                   "expired": "已逾期", "cancelled": "已取消"}


def shown(value: Any, spec: FieldSpec | None, org: Organisation) -> Any:
    """A recorded value as a person reads it: dates in Chinese, units by name, choices in words."""
    kind = spec.type if spec else ""
    if kind == "items" and isinstance(value, list) and spec is not None:
        subs = {f.name: f for f in spec.items}
        return "；".join("，".join(str(shown(v, subs.get(k), org)) for k, v in record.items()
                                  if v not in (None, "", []))
                        for record in value if isinstance(record, dict))
    if kind == "date" and isinstance(value, str):
        return zh_date(value)
    if kind == "datetime" and isinstance(value, str):
        return zh_datetime(value)
    if kind in ("choice", "choices") and spec is not None:
        values = value if isinstance(value, list) else [value]
        return "、".join(spec.choice_title(v) for v in values)
    if kind == "period" and isinstance(value, str):
        return period_title(value)
    return display(value, org)


def display(value: Any, org: Organisation) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(display(v, org)) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{display(v, org)}" for v in value.values() if v not in (None, "", []))
    if isinstance(value, str) and value in org.names:
        return org.name(value)
    return value


def work_note(event: str, payload: dict[str, Any], org: Organisation) -> str:
    """A 分办/认领/改派/抄送/已阅 row in words: "改派：张三 → 李四"."""
    title = WORK_NOTES[event]
    if event == "reassigned":
        return f"{title}：{payload.get('previous_name', '')} → {payload.get('assignee_name', '')}"
    if event == "shared":
        return f"{title}：{'、'.join(org.name(u) for u in payload.get('units', []))}"
    if event == "read":
        return f"{title}：{payload.get('reader_name', '')}"
    return f"{title}：{payload.get('assignee_name', '')}"


def person_of(payload: dict[str, Any]) -> str:
    """Who acted, when the row names a person: "李四 代 张三" for a delegate, else the one who assigned."""
    behalf = payload.get(ON_BEHALF_OF)
    if isinstance(behalf, dict):
        return f"{payload.get(ACTOR_NAME, '')} 代 {behalf.get('name', '')}"
    return str(payload.get("by_name") or "")


def case_page(conn: Connection, access: CaseAccess, case_id: int, now: datetime, documents: list[Any]) -> CasePage:
    record = access.record(conn, case_id)
    d = access.machine(conn, record).definition
    org = Organisation(conn, access.viewer.task_force)
    specs = field_specs(d)
    titles = {name: f.title for name, f in specs.items()}
    parties = [(d.roles[role].title if role in d.roles else role, [org.name(u) for u in units])
               for role, units in record.parties.items() if units]
    data = [(titles.get(k, k), shown(v, specs.get(k), org)) for k, v in record.data.items()
            if k in titles and v not in (None, "", [])]
    timeline = []
    history = access.history(conn, case_id)
    for h in history:
        ev = d.events.get(h.event)
        if h.kind == "note" and h.event in WORK_NOTES:  # 分办、认领、改派、抄送、已阅
            what, reason, details = work_note(h.event, h.payload, org), "", []
        elif h.event == "linked":  # an annotation: another case was linked to this one
            other = h.payload.get("to") or h.payload.get("from") or ""
            what = f"关联{d.links.get(h.payload.get('kind', ''), '案件')}"
            reason, details = "", [("关联案件", other)]
        else:
            what = ev.title if ev else ("创建" if h.kind == "create" else CLOCK_NOTES.get(h.event, h.event))
            if h.event in CLOCK_NOTES and h.payload.get("title"):  # the clock's notes name their deadline
                what = f"{what}：{h.payload['title']}"
            reason = h.payload.get("reason") or h.payload.get("comment") or h.payload.get("result") or ""
            # A clock note's payload is the engine's own (its deadline by code), not fields of the case.
            details = [] if h.event in CLOCK_NOTES else [
                (titles.get(k, k), shown(v, specs.get(k), org)) for k, v in h.payload.items()
                if k in titles and v not in (None, "", []) and k not in ("reason", "result", "comment")]
        role = d.roles[h.actor_role].title if h.actor_role in d.roles else (h.actor_role or "")
        timeline.append({"at": h.at, "who": org.name(h.actor_unit) if h.actor_unit else "系统", "role": role,
                         "person": person_of(h.payload),
                         "what": what, "reason": reason, "details": details,
                         "to_state": d.states[h.to_state].title if h.to_state in d.states else h.to_state})
    deadlines = []
    level = ladder_level(conn, access, record)
    for row in time_repo.deadlines_of(conn, case_id):
        spec = d.deadlines.get(row.name)
        running = row.status in ("running", "paused")
        owner = spec.owner if spec else None
        days = days_left(row.due_at, now) if running else None
        deadlines.append({"title": spec.title if spec else row.name, "due_at": row.due_at,
                          "colour": colour(days, level, d.due_soon_days),
                          "owner": "、".join(org.name(u) for u in record.parties.get(owner, [])) if owner else "",
                          "status": DEADLINE_STATUS.get(row.status, row.status),
                          "days": days, "running": running,
                          "provisional": provisional_reason(row.rule, row.due_at) if row.provisional else "",
                          "source": spec.source.text if spec and spec.source else ""})
    links = []
    linked = views.links(conn, case_id)
    others = cases_repo.load_many(conn, (other for _d, _k, other, _n in linked))
    for direction, kind, other, number in linked:
        row = others.get(other)
        if row is not None and access.visible(conn, row):
            od = access.machine(conn, row).definition
            # Titled by the definition that makes the link: this case's, or the other's.
            links.append({"id": other, "number": number, "kind": d.links.get(kind) or od.links.get(kind) or "关联案件",
                          "direction": direction, "title": row.title, "state": od.states[row.state].title})
    events = []
    done_before = {h.event for h in history}
    for name in access.allowed(conn, record):
        ev = d.events[name]
        m = access.machine(conn, record)
        dest = m.dest[(record.state, name)]
        values = typed_values(ev.fields, record.data) if name in done_before else {}
        events.append(EventForm(name, ev.title or name, d.states[dest].title,
                                widgets(ev.fields, case_choices(conn, access, now, ev)), values))
    return CasePage(record.id, record.number, record.title, record.description, d.title,
                    d.states[record.state].title, record.closed, record.version, record.due_at,
                    days_left(record.due_at, now) if record.due_at and not record.closed else None,
                    parties, data, timeline, deadlines, documents, attachments_repo.of_case(conn, case_id),
                    links, events, org.unit_groups(),
                    access.may_contribute(conn, access.load(conn, case_id)),
                    provisional_dues(conn, [case_id]).get(case_id, ""),
                    lead_in(history, record.state, d, titles, specs, org, record.data) if events else None,
                    [(d.events[n].title or n, why) for n, why in access.refused_now(conn, record)],
                    colour(days_left(record.due_at, now) if record.due_at and not record.closed else None, level,
                           d.due_soon_days), CARDS.get(level, ""))


def creatable(conn: Connection, access: CaseAccess) -> list[tuple[str, str]]:
    """(workflow, title) of the definitions whose cases the viewer may open."""
    roles = access.viewer.roles
    out = {}
    for row in access.definitions(conn):
        d = access.cases.machine(conn, row.id).definition
        if set(d.create.roles) & roles and "system" not in roles:
            out[d.name] = d.title
    return sorted(out.items())


def definition_of(conn: Connection, access: CaseAccess, workflow: str) -> Definition | None:
    found = None
    for row in access.definitions(conn):
        if row.name == workflow:
            found = row  # rows come by version: the last is the latest
    return access.cases.machine(conn, found.id).definition if found else None


@dataclass
class OverdueRow:
    name: str
    count: int
    share: float


def overdue_by(conn: Connection, access: CaseAccess, now: datetime) -> tuple[list[OverdueRow], list[OverdueRow], int]:
    """Open overdue work counted by unit and by city-level jurisdiction (the office sees all of it): each
    case once, against the unit that leads it, counted in the database (one row per unit comes back)."""
    org = Organisation(conn, access.viewer.task_force)
    by_unit: Counter[str] = Counter()
    by_place: Counter[str] = Counter()
    for unit, n in time_repo.open_past_due_by_unit(conn, access.viewer.task_force, now):
        by_unit[org.name(unit) if unit else "未确定承办单位"] += n
        by_place[(org.top_jurisdiction(unit) if unit else None) or "其他"] += n
    total = sum(by_unit.values())

    def rows(counter: Counter[str]) -> list[OverdueRow]:
        top = max(counter.values(), default=1)
        return [OverdueRow(k, v, v / top) for k, v in counter.most_common()]

    return rows(by_unit), rows(by_place), total


def ladder(conn: Connection, access: CaseAccess, now: datetime) -> list[dict[str, Any]]:
    """Open ladder cases (of definitions whose states carry colours): who holds which card, on what."""
    org = Organisation(conn, access.viewer.task_force)
    out = []
    for c in my_open_cases(conn, access, now, limit=None):
        record = c["record"]
        d = access.machine(conn, record).definition
        if not any(s.colour for s in d.states.values()):
            continue
        level = state_colour(conn, access, record)
        supervised = [u for role, spec in d.roles.items() if spec.kind == "party"
                      for u in record.parties.get(role, [])]
        out.append({**c, "card": CARDS.get(level, "催办"), "colour": colour(None, level),
                    "units": [org.name(u) for u in dict.fromkeys(supervised)]})
    order = {"red": 0, "yellow": 1, "green": 2}
    return sorted(out, key=lambda r: order[r["colour"]])


def assess_units(conn: Connection, access: CaseAccess, spec: Any, year: int, now: datetime) -> list[Any]:
    """The units' scores the viewer may see: the office every unit, a unit its own."""
    scores = assess(conn, access.viewer.task_force, spec, year, now)
    return scores if access.viewer.office else [s for s in scores if s.unit == access.viewer.unit]


def scorecards(conn: Connection, access: CaseAccess, spec: Any, year: int, now: datetime
               ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Each unit's record for the year (当前逾期: the work overdue now; for a past year, past due at its
    end and still open) and, when the year has 考核细则, the points ranked by score — one count for both."""
    org = Organisation(conn, access.viewer.task_force)
    scores = assess_units(conn, access, spec, year, now)
    rows = [{"unit": org.name(s.unit), "met": s.deadlines_met, "late": s.deadlines_late, "rate": s.on_time_rate,
             "rate_text": "—" if s.on_time_rate is None else f"{round(s.on_time_rate * 100, 1)}%",
             "overdue": s.overdue_now, "yellow": s.tally.cards.get("yellow", 0), "red": s.tally.cards.get("red", 0),
             "cards": dict(s.tally.cards)} for s in scores]
    return rows, _points(org, spec.assessment.get(year), scores)


def points_text(value: Any, sign: str = "") -> str:
    """1 → 1, 0.5 → 0.5, 2.50 → 2.5; with a sign for a deduction or bonus that is not zero."""
    if value is None:
        return "—"
    text = f"{value:f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{sign}{text}" if sign and value else text


def _lines(lines: Any) -> list[dict[str, Any]]:
    return [{"code": ln.code, "title": ln.title, "count": ln.count, "kind": "扣分" if ln.kind == "deduct" else "加分",
             "points": points_text(ln.points, "−" if ln.kind == "deduct" else "+")} for ln in lines]


def _points(org: Organisation, rules: Any, scores: list[Any]) -> dict[str, Any] | None:
    if rules is None:
        return None
    legend = [{"code": r.code, "title": r.title, "kind": "扣分" if r.kind == "deduct" else "加分",
               "per": points_text(r.per_item) if r.per_item is not None else str(r.points.text),
               "cap": points_text(r.cap) if r.cap is not None else "不设上限"} for r in rules.rules.values()]
    rows = [{"code": s.unit, "unit": org.name(s.unit), "score": points_text(s.score),
             "deductions": points_text(s.deductions, "−"), "bonuses": points_text(s.bonuses, "+"),
             "lines": _lines(s.lines)} for s in sorted(scores, key=lambda s: (-(s.score or 0), s.unit))]
    return {"title": rules.title, "base": points_text(rules.base), "legend": legend, "rows": rows,
            "score_rule": score_text(rules)}


def _cases(found: list[Any]) -> list[dict[str, Any]]:
    return [{"id": b.case_id, "number": b.number, "title": b.title, "at": b.at} for b in found]


def points_behind(conn: Connection, access: CaseAccess, spec: Any, year: int, now: datetime,
                  points: dict[str, Any]) -> list[dict[str, Any]]:
    """Every case behind a deduction or bonus of the units shown, one row each (for the export): one
    statement per rule for all units."""
    behind = behind_all(conn, access.viewer.task_force, spec, year, now, None if access.viewer.office
                        else access.viewer.unit)
    return [{"unit": u["unit"], "rule": ln["title"], "kind": ln["kind"], "number": c["number"], "case": c["title"],
             "at": c["at"]}
            for u in points["rows"] for ln in u["lines"] for c in _cases(behind[ln["code"]].get(u["code"], []))]


def assessment_of_unit(conn: Connection, access: CaseAccess, spec: Any, year: int, now: datetime,
                       unit: str) -> dict[str, Any] | None:
    """One unit's points with the cases behind every deduction and bonus (None: not the viewer's to see)."""
    rules = spec.assessment.get(year)
    if rules is None or not (access.viewer.office or unit == access.viewer.unit):
        return None
    found = next((s for s in assess_units(conn, access, spec, year, now) if s.unit == unit), None)
    if found is None:
        return None
    behind = behind_all(conn, access.viewer.task_force, spec, year, now, unit)
    org = Organisation(conn, access.viewer.task_force)
    return {"unit": org.name(unit), "code": unit, "title": rules.title, "base": points_text(rules.base),
            "score": points_text(found.score), "deductions": points_text(found.deductions, "−"),
            "bonuses": points_text(found.bonuses, "+"),
            "lines": [{**ln, "cases": _cases(behind[ln["code"]].get(unit, []))} for ln in _lines(found.lines)]}


def calendar(conn: Connection, access: CaseAccess, now: datetime, year: int, month: int) -> dict[int, list[dict]]:
    """Day of month → the meetings (by meeting time, which is shown, else latest date), inspections and duties
    due that month, in Beijing time."""
    days: dict[int, list[dict]] = defaultdict(list)
    start = datetime(year, month, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=LOCAL_TZ)
    # Everything due in the month, and every case with a set meeting time (checked against the month below).
    for c in my_open_cases(conn, access, now, limit=None, due_from=start.astimezone(UTC),
                           due_before=end.astimezone(UTC), or_holding=MEETING_TIME):
        record = c["record"]
        when, time_text = record.data.get(MEETING_TIME), ""
        if when:
            try:
                when = moment_of(when)
            except (TypeError, ValueError):
                continue
            time_text = f"{to_local(when):%H:%M}"
            c = {**c, "provisional": ""}  # the meeting's own time is shown, not a computed deadline
        else:
            when = c["due_at"]
        if when is None:
            continue
        local = to_local(when)
        if (local.year, local.month) == (year, month):
            days[local.day].append({**c, "at": local, "time": time_text})
    return dict(days)


def ledger_cases(conn: Connection, access: CaseAccess, now: datetime) -> list[dict[str, Any]]:
    """Every case I may see (open or finished) whose workflow keeps the 回头看 table, newest first."""
    from documents.excel import LOOKBACKS

    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in access.definitions(conn):
        d = access.cases.machine(conn, row.id).definition
        if d.name in seen or not excel.keeps_lookbacks(d):
            continue
        seen.add(d.name)
        records, _ = access.search(conn, CaseFilter(workflow=d.name, sort="-updated_at", limit=None), now)
        for r in records:
            rd = access.machine(conn, r).definition
            out.append({"id": r.id, "number": r.number, "title": r.title, "workflow": rd.title,
                        "workflow_name": r.workflow, "state": rd.states[r.state].title,
                        "lookbacks": len(r.data.get(LOOKBACKS) or ())})
    return out


def by_stage(conn: Connection, access: CaseAccess, now: datetime, workflow: str) -> list[tuple[str, list[dict]]]:
    """My open cases of a workflow grouped by state, in the definition's order of states."""
    d = definition_of(conn, access, workflow)
    if d is None:
        return []
    groups: dict[str, list[dict]] = defaultdict(list)
    for c in my_open_cases(conn, access, now, workflow=workflow, limit=None):
        groups[c["state_name"]].append(c)
    return [(d.states[s].title, groups[s]) for s in d.states if s in groups]


def running_deadlines(conn: Connection, access: CaseAccess, now: datetime, workflow: str,
                      state: str) -> list[dict[str, Any]]:
    """Open cases of a workflow in a state, with their running deadlines counting down."""
    out = []
    for c in my_open_cases(conn, access, now, workflow=workflow, state=state, limit=None):
        record = c["record"]
        d = access.machine(conn, record).definition
        for row in time_repo.deadlines_of(conn, c["id"]):
            if row.status in ("running", "paused"):
                spec = d.deadlines.get(row.name)
                out.append({**c, "deadline": spec.title if spec else row.name, "due_at": row.due_at,
                            "days": days_left(row.due_at, now),
                            "provisional": provisional_reason(row.rule, row.due_at) if row.provisional else "",
                            "number_doc": record.data.get("recommendation_no", "")})
    return sorted(out, key=lambda r: r["due_at"])


def disclosure(conn: Connection, task_force: str, year: int, workflow: str, rectified: str,
               closed: str) -> list[dict[str, int]]:
    months = views.entries_by_month(conn, task_force, workflow, year)
    return [{"month": m, "found": months.get(m, Counter())["created"],
             "rectified": months.get(m, Counter())[rectified], "closed": months.get(m, Counter())[closed]}
            for m in range(1, 13)]


def _figure_text(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") + unit if isinstance(value, float) else f"{value}{unit}"


def figure_rows(conn: Connection, table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Figures (engine/figures.py) as page rows: a value by unit becomes one line per unit, by name."""
    names = {r[0]: r[2] for r in org_repo.units(conn)}
    out = []
    for row in table:
        value = row["value"]
        if isinstance(value, dict):
            lines = [f"{names.get(unit, unit)}：{_figure_text(v, row['unit'])}" for unit, v in value.items()]
        else:
            lines = [_figure_text(value, row["unit"])]
        out.append({"title": row["title"], "lines": lines or ["—"]})
    return out
