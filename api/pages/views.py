"""What each page shows, built from the engine's services and the access rules the JSON routes use.

Route functions call these; these read through `CaseAccess`, `engine.views` and the repositories.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from api.pages.forms import Widget, widgets
from api.pages.render import days_left, zh_date, zh_datetime
from db.repositories import attachments as attachments_repo
from db.repositories import case_queries
from db.repositories import cases as cases_repo
from db.repositories import organisation as org_repo
from db.repositories import time as time_repo
from db.repositories.case_queries import CaseFilter
from engine import views, worklist
from engine.access import CaseAccess
from engine.deadlines import provisional_dues, provisional_reason
from engine.definition import Definition, FieldSpec
from engine.notices import CLOCK_NOTES

FAR = datetime(2999, 1, 1, tzinfo=UTC)
# Ladder states of the supervision workflow, by the card they show; looked up by state name so a
# mechanism whose ladder uses other names shows no card rather than a wrong one.
YELLOW = frozenset({"yellow", "red_proposed"})
# The data key a meeting's set time is recorded under (the calendar shows the meeting on that day).
MEETING_TIME = "meeting_at"
RED = frozenset({"red", "circular_proposed", "circular", "summons_proposed", "summons", "transfer_proposed"})


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
    also: str = ""  # the titles of the optional events also open to me (“亦可：回头看”)
    received: datetime | None = None  # when the case entered the state that awaits me
    fresh: bool = False  # 新到: changed since my last sitting at 我的待办


def ladder_card(conn: Connection, access: CaseAccess, case_id: int) -> str:
    """The card an open supervision case linked to this case shows: 红牌, 黄牌 or nothing."""
    card = ""
    for _direction, _kind, other, _number in views.links(conn, case_id):
        row = cases_repo.load(conn, other)
        if row is None or row.closed:
            continue
        if row.state in RED:
            return "红牌"
        if row.state in YELLOW:
            card = "黄牌"
    return card


def colour(days: int | None, card: str) -> str:
    if card == "红牌" or (days is not None and days < 0):
        return "red"
    if card == "黄牌" or (days is not None and days <= 3):
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
    acts = worklist.actionable(conn, access)
    titles = {a.case_id: access.machine(conn, a.record).definition.title for a in acts}
    acts.sort(key=_work_key(sort if sort in WORK_SORTS else "due", titles))
    days = {a.case_id: days_left(a.record.due_at, now) for a in acts}
    counts = {"overdue": sum(1 for d in days.values() if d is not None and d < 0),
              "today": sum(1 for d in days.values() if d == 0),
              "week": sum(1 for d in days.values() if d is not None and 0 <= d <= 7)}
    latest = case_queries.latest_history_at(conn, [a.case_id for a in acts]) if since else {}
    fresh = {c for c, at in latest.items() if at > since} if since else set()
    shown = acts[(page - 1) * per_page: page * per_page]
    provisional = provisional_dues(conn, [a.case_id for a in shown])
    out = []
    for a in shown:
        record = a.record
        d = access.machine(conn, record).definition
        card = ladder_card(conn, access, a.case_id)
        item = WorkItem(a.case_id, record.number, record.title, d.title, d.states[record.state].title,
                        record.due_at, days[a.case_id], colour(days[a.case_id], card), card, "、".join(a.titles),
                        provisional.get(a.case_id, ""))
        item.also = "、".join(a.also)
        item.received = record.state_entered_at
        item.fresh = a.case_id in fresh
        out.append(item)
    return WorkPage(out, len(acts), counts, len(fresh))


def my_open_cases(conn: Connection, access: CaseAccess, now: datetime, *, workflow: str | None = None,
                  unit: str | None = None, state: str | None = None, limit: int | None = 100,
                  due_from: datetime | None = None, due_before: datetime | None = None,
                  or_holding: str | None = None) -> list[dict[str, Any]]:
    """Open cases I may see, latest first; `limit=None` reads every one (one statement)."""
    f = CaseFilter(workflow=workflow, state=state, closed=False, unit=unit, sort="-updated_at", limit=limit,
                   due_from=due_from, due_before=due_before, or_holding=or_holding)
    records, _ = access.search(conn, f, now)
    provisional = provisional_dues(conn, [r.id for r in records if r.due_at is not None])
    out = []
    for r in records:
        d = access.machine(conn, r).definition
        out.append({"id": r.id, "number": r.number, "title": r.title, "workflow": d.title,
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
    units: list[Unit] = field(default_factory=list)
    may_add_evidence: bool = False
    due_provisional: str = ""  # why the current due date is only provisional, else ""


LINK_TITLES = {"decision": "议定事项", "settles": "办结事项", "supervision": "督办", "escalation": "提请会议研究",
               "clue": "检察线索", "finding": "发现问题", "reopens": "回头看"}
DEADLINE_STATUS = {"running": "计时中", "paused": "已暂停", "met": "期限内已办理", "late": "超期后办理",
                   "expired": "已逾期", "cancelled": "已取消"}


# Definitions name some choices by code; until they carry titles, the pages read these in Chinese.
CHOICE_WORDS = {
    "plenary": "全体会议", "topical": "专题会议", "ad_hoc": "临时会议", "comprehensive": "综合执法", "sector": "专项执法",
    "water_quality": "水质异常", "emergency": "突发事件", "self_inspection": "季度自查", "water_data": "水质数据",
    "risk_info": "风险信息", "project_list": "项目清单", "enforcement_report": "执法情况", "joint_inspection": "联合排查",
    "enforcement": "联合执法", "anomaly": "异常情况", "other": "其他",
}


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
    if kind in ("choice", "choices"):
        values = value if isinstance(value, list) else [value]
        return "、".join(CHOICE_WORDS.get(str(v), str(v)) for v in values)
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
    for h in access.history(conn, case_id):
        ev = d.events.get(h.event)
        if h.event == "linked":  # an annotation: another case was linked to this one
            other = h.payload.get("to") or h.payload.get("from") or ""
            what = f"关联{LINK_TITLES.get(h.payload.get('kind', ''), '案件')}"
            reason, details = "", [("关联案件", other)]
        else:
            what = ev.title if ev else ("创建" if h.kind == "create" else CLOCK_NOTES.get(h.event, h.event))
            if h.event in CLOCK_NOTES and h.payload.get("title"):  # the clock's notes name their deadline
                what = f"{what}：{h.payload['title']}"
            reason = h.payload.get("reason") or h.payload.get("comment") or h.payload.get("result") or ""
            details = [(titles.get(k, k), shown(v, specs.get(k), org)) for k, v in h.payload.items()
                       if k in titles and v not in (None, "", []) and k not in ("reason", "result", "comment")]
        role = d.roles[h.actor_role].title if h.actor_role in d.roles else (h.actor_role or "")
        timeline.append({"at": h.at, "who": org.name(h.actor_unit) if h.actor_unit else "系统", "role": role,
                         "what": what, "reason": reason, "details": details,
                         "to_state": d.states[h.to_state].title if h.to_state in d.states else h.to_state})
    deadlines = []
    for row in time_repo.deadlines_of(conn, case_id):
        spec = d.deadlines.get(row.name)
        running = row.status in ("running", "paused")
        owner = spec.owner if spec else None
        deadlines.append({"title": spec.title if spec else row.name, "due_at": row.due_at,
                          "owner": "、".join(org.name(u) for u in record.parties.get(owner, [])) if owner else "",
                          "status": DEADLINE_STATUS.get(row.status, row.status),
                          "days": days_left(row.due_at, now) if running else None, "running": running,
                          "provisional": provisional_reason(row.rule, row.due_at) if row.provisional else "",
                          "source": spec.source.text if spec and spec.source else ""})
    links = []
    for direction, kind, other, number in views.links(conn, case_id):
        row = cases_repo.load(conn, other)
        if row is not None and access.visible(conn, row):
            od = access.machine(conn, row).definition
            links.append({"id": other, "number": number, "kind": LINK_TITLES.get(kind, kind),
                          "direction": direction, "title": row.title, "state": od.states[row.state].title})
    events = []
    for name in access.allowed(conn, record):
        ev = d.events[name]
        m = access.machine(conn, record)
        dest = m.dest[(record.state, name)]
        events.append(EventForm(name, ev.title or name, d.states[dest].title, widgets(ev.fields)))
    return CasePage(record.id, record.number, record.title, record.description, d.title,
                    d.states[record.state].title, record.closed, record.version, record.due_at,
                    days_left(record.due_at, now) if record.due_at and not record.closed else None,
                    parties, data, timeline, deadlines, documents, attachments_repo.of_case(conn, case_id),
                    links, events, sorted(org.units.values(), key=lambda u: u.code),
                    access.may_contribute(conn, access.load(conn, case_id)),
                    provisional_dues(conn, [case_id]).get(case_id, ""))


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
    """Open supervision cases: who holds which card, on what."""
    org = Organisation(conn, access.viewer.task_force)
    out = []
    for c in my_open_cases(conn, access, now, workflow="supervision", limit=None):
        record = access.record(conn, c["id"])
        card = "红牌" if record.state in RED else ("黄牌" if record.state in YELLOW else "催办")
        out.append({**c, "card": card, "units": [org.name(u) for u in record.parties.get("supervised", [])]})
    order = {"红牌": 0, "黄牌": 1, "催办": 2}
    return sorted(out, key=lambda r: order[r["card"]])


def scorecards(conn: Connection, access: CaseAccess, year: int) -> list[dict[str, Any]]:
    from engine.context import LOCAL_TZ

    org = Organisation(conn, access.viewer.task_force)
    cards = views.scorecards(conn, access.viewer.task_force, datetime(year, 1, 1, tzinfo=LOCAL_TZ),
                             datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ))
    if not access.viewer.office:
        cards = {u: c for u, c in cards.items() if u == access.viewer.unit}
    return [{"unit": org.name(c.unit), "met": c.deadlines_met, "late": c.deadlines_late,
             "rate": c.on_time_rate, "overdue": c.open_overdue, "yellow": c.cards.get("yellow", 0),
             "red": c.cards.get("red", 0), "cards": dict(c.cards)} for c in sorted(cards.values(), key=lambda c: c.unit)]


def calendar(conn: Connection, access: CaseAccess, now: datetime, year: int, month: int) -> dict[int, list[dict]]:
    """Day of month → the meetings (by meeting time, else latest date), inspections and duties due that month."""
    from engine.context import LOCAL_TZ

    days: dict[int, list[dict]] = defaultdict(list)
    start = datetime(year, month, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=LOCAL_TZ)
    # Everything due in the month, and every case with a set meeting time (checked against the month below).
    for c in my_open_cases(conn, access, now, limit=None, due_from=start.astimezone(UTC),
                           due_before=end.astimezone(UTC), or_holding=MEETING_TIME):
        record = access.record(conn, c["id"])
        when = record.data.get(MEETING_TIME)
        if when:
            c = {**c, "provisional": ""}  # the meeting's own time is shown, not a computed deadline
        else:
            when = c["due_at"]
        if isinstance(when, str):
            try:
                when = datetime.fromisoformat(when)
            except ValueError:
                continue
        if when is None:
            continue
        local = when.astimezone(LOCAL_TZ)
        if (local.year, local.month) == (year, month):
            days[local.day].append({**c, "at": local})
    return dict(days)


def keeps_lookbacks(d: Definition) -> bool:
    """The definition records look-backs (an event appends to the look-back table's data key)."""
    from documents.excel import LOOKBACKS

    return any(inv.name == "append_item" and inv.kwargs().get("key") == LOOKBACKS
               for ev in d.events.values() for inv in ev.effects)


def ledger_cases(conn: Connection, access: CaseAccess, now: datetime) -> list[dict[str, Any]]:
    """Every case I may see (open or finished) whose workflow keeps the 回头看 table, newest first."""
    from documents.excel import LOOKBACKS

    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in access.definitions(conn):
        d = access.cases.machine(conn, row.id).definition
        if d.name in seen or not keeps_lookbacks(d):
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
        record = access.record(conn, c["id"])
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
    from engine.context import LOCAL_TZ

    months = views.entries_by_month(conn, task_force, workflow, year, LOCAL_TZ)
    return [{"month": m, "found": months.get(m, Counter())["created"],
             "rectified": months.get(m, Counter())[rectified], "closed": months.get(m, Counter())[closed]}
            for m in range(1, 13)]
