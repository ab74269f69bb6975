"""Named clocks on a case, declared in the definition: start, stop, pause, resume, extend, reset.

Applied inside the event's transaction; timers are armed and disarmed in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection

from db.repositories import time as trepo
from engine.actors import Actor
from engine.calendar import WorkCalendar
from engine.definition import DeadlineOps, DeadlineSpec, Definition, DurationRule
from engine.localtime import at_local, end_of_local_day, local_date, moment_of

RUNNING, PAUSED = "running", "paused"
SYSTEM_ACTOR = Actor("system", None, frozenset({"system"}), name="系统")


@dataclass(frozen=True)
class DueChange:
    due_at: datetime | None
    due_role: str | None


def _as_date(value: Any) -> date:
    if isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10):
        return local_date(moment_of(value))  # a date-time's Beijing day, not its text's first ten characters
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _local_noon(day: date) -> datetime:
    # A day given without a time (date of service) starts the clock that day; the day itself never counts.
    return at_local(day, time(12))


def _start_at(value: Any) -> datetime:
    """A date starts a clock at local noon that day; a date-time (e.g. when an anomaly was detected),
    at that moment — naive ones are Beijing time."""
    if isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10):
        return moment_of(value).astimezone(UTC)
    return _local_noon(_as_date(value))


def pick_rule(spec: DeadlineSpec, flags: Mapping[str, Any]) -> DurationRule | None:
    for rule in spec.rules:
        if rule.when_flag is None or flags.get(rule.when_flag):
            return rule
    return None


class DeadlineKeeper:
    """Applies deadline operations for one event and keeps the case's current due date."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        # The stored calendar version this calendar was built from (engine.calendar_sync); None until
        # the first sync. Replaced whole, never mutated: readers on other threads see one or the other.
        self.calendar_version: str | None = None

    def compute(self, spec: DeadlineSpec, start: datetime, values: Mapping[str, Any],
                flags: Mapping[str, Any]) -> tuple[datetime, bool, dict[str, Any]] | None:
        """Due moment, provisional flag and the rule used. `values`: payload, then case data, by name.
        None for a deadline given only by a date field that was left empty: no clock runs."""
        if spec.start_field and values.get(spec.start_field):
            start = _start_at(values[spec.start_field])
        if spec.from_field and values.get(spec.from_field):
            return end_of_local_day(_as_date(values[spec.from_field])), False, {"from_field": spec.from_field}
        rule = pick_rule(spec, flags)
        if rule is None:
            return None
        due = self.calendar.add(start, rule.amount, rule.unit)
        used = {"amount": rule.amount, "unit": rule.unit, "flag": rule.when_flag}
        if due.provisional:
            used["missing_years"] = sorted(due.missing_years)  # what the page says it waits for
        if due.last_day is not None:
            used["last_day"] = due.last_day.isoformat()  # where excluded time is added (see _resume)
        return due.at, due.provisional, used

    def warn_at(self, spec: DeadlineSpec, started: datetime, due: datetime) -> datetime | None:
        if spec.warn_share is not None:
            return started + (due - started) * spec.warn_share
        if spec.warn_before is not None:
            w = spec.warn_before
            if w.unit == "working_day":
                return self.calendar.subtract_working_days(due, w.amount)
            if w.unit == "hour":
                return due - timedelta(hours=w.amount)
            return due - timedelta(days=w.amount * (30 if w.unit == "month" else 1))
        return None

    def apply(self, conn: Connection, *, case_id: int, definition: Definition, ops: Iterable[DeadlineOps],
              payload: Mapping[str, Any], data: Mapping[str, Any], now: datetime,
              cancel_episode: Callable[[int, str, DeadlineSpec], None]) -> DueChange:
        flags = {**data, **payload}
        for op in ops:
            for name in op.stop:
                self._stop(conn, case_id, definition.deadlines[name], now, cancel_episode)
            for name in op.pause:
                row = trepo.get_deadline(conn, case_id, name)
                if row is not None and row.status == RUNNING:
                    trepo.set_deadline(conn, case_id, name, status=PAUSED, paused_at=now)
                    trepo.disarm(conn, case_id, name, "paused")
            for name in op.resume:
                self._resume(conn, case_id, definition.deadlines[name], now)
            for name, field in op.extend:
                spec = definition.deadlines[name]
                if payload.get(field) is not None:
                    row = trepo.get_deadline(conn, case_id, name)
                    due = end_of_local_day(_as_date(payload[field]))
                    self._run(conn, case_id, spec, row.started_at if row else now, due, False, now,
                              {"extended_to": str(payload[field])}, extensions=(row.extensions + 1) if row else 1)
                    cancel_episode(case_id, name, spec)
            for name in op.reset:
                spec = definition.deadlines[name]
                # A reset takes a new date from this event only; the old one is what is being replaced.
                computed = self.compute(spec, now, payload, flags)
                if computed is None:
                    continue  # no new date and no rule: the clock stands as it was
                due, provisional, rule = computed
                row = trepo.get_deadline(conn, case_id, name)
                self._run(conn, case_id, spec, now, due, provisional, now, rule,
                          extensions=row.extensions if row else 0)
                cancel_episode(case_id, name, spec)
            for name in op.start:
                spec = definition.deadlines[name]
                own_start = bool(spec.start_field and flags.get(spec.start_field))
                started = _start_at(flags[spec.start_field]) if own_start else now
                if spec.start_after is not None:
                    started = self._after(conn, case_id, spec, started if own_start else None, now)
                computed = self.compute(spec, started, {k: v for k, v in flags.items() if k != spec.start_field},
                                        flags)
                if computed is None:
                    continue
                due, provisional, rule = computed
                self._run(conn, case_id, spec, started, due, provisional, now, rule)
        return self.current_due(conn, case_id, definition)

    @staticmethod
    def _after(conn: Connection, case_id: int, spec: DeadlineSpec, own_start: datetime | None,
               now: datetime) -> datetime:
        """A clock declared `start_after: other` runs from the end of `other` (its due moment, whether it
        was met, is late or still running), or from its own start when that is later — e.g. the review
        after a recommendation never starts while the agency's period to perform may still be running.
        Without a start field of its own it starts at the other's end even if the event comes later."""
        other = trepo.get_deadline(conn, case_id, spec.start_after)
        if other is None:
            return own_start or now
        return other.due_at if own_start is None else max(own_start, other.due_at)

    def _run(self, conn: Connection, case_id: int, spec: DeadlineSpec, started: datetime, due: datetime,
             provisional: bool, now: datetime, rule: dict[str, Any], extensions: int = 0) -> None:
        trepo.disarm(conn, case_id, spec.name, "restarted")
        warn = self.warn_at(spec, started, due)
        trepo.put_deadline(conn, {
            "case_id": case_id, "name": spec.name, "status": RUNNING, "started_at": started, "due_at": due,
            "warn_at": warn, "paused_at": None, "stopped_at": None, "provisional": provisional,
            "owner_role": spec.owner, "extensions": extensions,
            # Only deadlines that set the case's due date are obligations the owner is assessed on.
            "rule": {**rule, "assessed": spec.sets_due},
        })
        if warn is not None and warn > now:
            trepo.arm(conn, case_id, spec.name, "warn", warn, now)
        trepo.arm(conn, case_id, spec.name, "expire", due, now)

    def _stop(self, conn: Connection, case_id: int, spec: DeadlineSpec, now: datetime, cancel_episode) -> None:
        row = trepo.get_deadline(conn, case_id, spec.name)
        if row is None or row.status not in (RUNNING, PAUSED, "expired"):
            return
        trepo.set_deadline(conn, case_id, spec.name, status="met" if now <= row.due_at else "late", stopped_at=now)
        trepo.disarm(conn, case_id, spec.name, "stopped")
        cancel_episode(case_id, spec.name, spec)

    def _resume(self, conn: Connection, case_id: int, spec: DeadlineSpec, now: datetime) -> None:
        row = trepo.get_deadline(conn, case_id, spec.name)
        if row is None or row.status != PAUSED:
            return
        unit = row.rule.get("unit")
        if unit == "working_day":
            # The clock stood still: every working day of the pause is added back.
            lost = self.calendar.working_days_between(row.paused_at, now)
            due = self.calendar.add(row.due_at, lost, "working_day").at if lost > 0 else row.due_at
        elif unit == "hour":
            due = row.due_at + (now - row.paused_at)
        else:
            due, last_day = self._resumed_day_due(row.due_at, row.rule.get("last_day"), row.paused_at, now)
            if last_day is not None:
                trepo.set_deadline(conn, case_id, spec.name, rule={**row.rule, "last_day": last_day.isoformat()})
        trepo.set_deadline(conn, case_id, spec.name, status=RUNNING, paused_at=None, due_at=due)
        if row.warn_at is not None:
            warn = row.warn_at + (due - row.due_at)
            trepo.set_deadline(conn, case_id, spec.name, warn_at=warn)
            if warn > now:
                trepo.arm(conn, case_id, spec.name, "warn", warn, now)
        trepo.arm(conn, case_id, spec.name, "expire", due, now)

    def _resumed_day_due(self, due_at: datetime, last_day: str | None, paused_at: datetime,
                         now: datetime) -> tuple[datetime, date | None]:
        """A period in days or months keeps its own rules after a pause: the local days the clock stood
        still are added to its last day, which then moves off a rest day or holiday to the next working
        day, and ends at 24:00 that day (民法典 Art. 203) — never at the wall-clock time of the resumption.
        The last day is the one the count ended on (`last_day`), not the day a holiday moved it to: the
        holiday only postpones the end, it is not part of the period (a month ending on 1 October, with
        ten days excluded, ends on 11 October, or the next working day — not ten days after 8 October).
        Clocks started before `last_day` was kept fall back to their due day. Returns the due moment and
        the new last day."""
        lost = (local_date(now) - local_date(paused_at)).days
        if lost <= 0:
            return due_at, None
        base = date.fromisoformat(last_day) if last_day else local_date(due_at)
        counted = base + timedelta(days=lost)
        day = counted if self.calendar.is_working_day(counted) else self.calendar.next_working_day(counted)
        return end_of_local_day(day), counted

    @staticmethod
    def current_due(conn: Connection, case_id: int, definition: Definition) -> DueChange:
        """The earliest running (or expired, still open) deadline that sets the case's due date."""
        best = None
        for row in trepo.deadlines_of(conn, case_id):
            spec = definition.deadlines.get(row.name)
            if spec is None or not spec.sets_due or row.status not in (RUNNING, "expired"):
                continue
            if best is None or row.due_at < best.due_at:
                best = row
        return DueChange(best.due_at, best.owner_role) if best else DueChange(None, None)



def provisional_reason(rule: Mapping[str, Any] | None, due_at: datetime) -> str:
    """Why a deadline is only provisional, in the words the pages, feeds and exports show."""
    years = list((rule or {}).get("missing_years") or [local_date(due_at).year])
    return f"暂定：{'、'.join(f'{y}年' for y in years)}节假日安排尚未公布，按周末推算"


def provisional_due_among(rows, due_at: datetime | None) -> str:
    """Why the case's current due date is provisional, read from its deadline rows already in hand
    (what provisional_dues asks the database for one case) — or "" when it is not."""
    for row in rows:
        if (due_at is not None and row.provisional and row.due_at == due_at
                and row.status in ("running", "paused", "expired")):
            return provisional_reason(row.rule, row.due_at)
    return ""


def provisional_dues(conn: Connection, case_ids: Iterable[int]) -> dict[int, str]:
    """Case id → why its current due date is provisional, for those of `case_ids` whose is (one query)."""
    return {case_id: provisional_reason(rule, due_at)
            for case_id, rule, due_at in trepo.provisional_case_dues(conn, list(case_ids))}


def recompute_provisional(cases, conn: Connection) -> int:
    """Deadlines computed without a holiday schedule are recomputed once the schedule is there.

    Each deadline in its own savepoint: one case that cannot take the note (its clock reads behind
    its history) stays provisional until the next recomputation; the others go on."""
    from db.repositories import cases as case_repo
    from engine.errors import EngineError

    done = 0
    keeper: DeadlineKeeper = cases.deadlines
    for row in trepo.provisional_deadlines(conn):
        unit, amount = row.rule.get("unit"), row.rule.get("amount")
        if not unit or not amount:
            continue
        due = keeper.calendar.add(row.started_at, amount, unit)
        if due.provisional:
            continue  # the year is still missing: keep waiting, never guess
        try:
            with conn.begin_nested():
                if _recompute_one(cases, conn, keeper, case_repo, row, due.at):
                    done += 1
        except EngineError:
            continue
    return done


def _recompute_one(cases, conn: Connection, keeper: DeadlineKeeper, case_repo, row, due_at: datetime) -> bool:
    case = case_repo.load(conn, row.case_id)
    definition = cases.machine(conn, case.definition_id).definition
    spec = definition.deadlines.get(row.name)
    if spec is None:
        return False
    rule = {k: v for k, v in row.rule.items() if k != "missing_years"}
    warn = keeper.warn_at(spec, row.started_at, due_at)
    trepo.set_deadline(conn, row.case_id, row.name, due_at=due_at, provisional=False, warn_at=warn, rule=rule)
    if row.status == RUNNING:
        trepo.disarm(conn, row.case_id, row.name, "recomputed with the holiday schedule")
        now = cases.clock.now()
        if warn is not None and warn > now:
            trepo.arm(conn, row.case_id, row.name, "warn", warn, now)
        trepo.arm(conn, row.case_id, row.name, "expire", due_at, now)
    current = keeper.current_due(conn, row.case_id, definition)
    lead = (case.parties.get(current.due_role) or [None])[0] if current.due_role else None
    case_repo.advance_with(conn, case.id, case.version, {"due_at": current.due_at, "due_role": current.due_role,
                                                         "due_unit": lead})
    cases.annotate(conn, case.id, "deadline_recomputed", SYSTEM_ACTOR,
                   {"deadline": row.name, "was": row.due_at.isoformat(), "now": due_at.isoformat()})
    return True
