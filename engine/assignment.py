"""分办 / 认领 / 改派 and 抄送 / 已读: each a note row on the case's hash-chained history (so replay and
verify cover it), plus the current state in case_assignments, case_shares and case_reads.

Who may assign: any account of a unit acting on the case — its unit holds a party role on the case that
some event of the workflow names (a unit only invited to observe does not). The unit decides inside
itself who does the work; every hand-over is on the chain under the account that made it, so the rule
is kept simple rather than reserved to one post. The 承办人 must be an active user account of the same
unit and task force. Claiming (认领) is assigning an unassigned case to oneself; reassigning (改派) is
assigning a case that already has a 承办人 to another. Sharing (抄送) is open to an account of a party
unit and to the office of the case's task force; the units shared with read the case, never act on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from db.repositories import accounts as accounts_repo
from db.repositories import assignments as assign_repo
from db.repositories.assignments import Assignee
from db.repositories.cases import CaseRow
from engine.access import CaseAccess, acting_roles, is_party
from engine.acting import user_id_of
from engine.errors import BadAssignee, NotActingUnit, StaleVersion, WorkConflict

ASSIGNED, CLAIMED, REASSIGNED, SHARED, READ = "assigned", "claimed", "reassigned", "shared", "read"
NOTES = {ASSIGNED: "分办", CLAIMED: "认领", REASSIGNED: "改派", SHARED: "抄送", READ: "已阅"}


@dataclass(frozen=True)
class CaseWork:
    """Who handles a case inside each party unit, which units it is shared with, who has read it."""

    assignees: list[Assignee]
    shares: list[tuple[str, str, datetime]]
    receipts: list[tuple[str, str, str, datetime]]


def case_work(conn: Connection, case_id: int) -> CaseWork:
    return CaseWork(assign_repo.assignees_of_case(conn, case_id), assign_repo.shared_units(conn, case_id),
                    assign_repo.receipts(conn, case_id))


def acting_unit(access: CaseAccess, conn: Connection, case: CaseRow) -> bool:
    """Whether the viewer's unit holds, on the case, a party role some event of its workflow names."""
    unit = access.viewer.unit
    if unit is None:
        return False
    named = acting_roles(access.machine(conn, case).definition)
    return any(unit in units and role in named for role, units in case.parties.items())


def may_share(access: CaseAccess, conn: Connection, case: CaseRow) -> bool:
    viewer = access.viewer
    return is_party(viewer.unit, case.parties) or (viewer.office and viewer.task_force == case.task_force_code)


class UnitWork:
    """The unit-work actions as one viewer may take them, in the caller's transaction."""

    def __init__(self, access: CaseAccess) -> None:
        self.access = access
        self.viewer = access.viewer

    def _open_case(self, conn: Connection, case_id: int, expected_version: int | None) -> CaseRow:
        case = self.access.load(conn, case_id)
        if expected_version is not None and expected_version != case.version:
            raise StaleVersion(case.id, expected_version, case.version, case.state)
        if case.closed:
            raise WorkConflict(f"case {case.number} is closed", "事项已办结，不能再分办或认领", case_id=case.id)
        if not acting_unit(self.access, conn, case):
            raise NotActingUnit("only an account of a unit acting on the case may assign it",
                                "只有在本事项中承担办理职责的单位的账号才能分办、认领或改派", case_id=case.id)
        return case

    def assign(self, conn: Connection, case_id: int, assignee_id: int, *,
               expected_version: int | None = None) -> CaseRow:
        """分办 (or 改派 when the unit's share already has a 承办人) to an account of the viewer's unit."""
        case = self._open_case(conn, case_id, expected_version)
        unit = self.viewer.unit
        person = accounts_repo.person(conn, assignee_id)
        if person is None or person.unit_code != unit or person.task_force_code != self.viewer.task_force:
            raise BadAssignee(f"user {assignee_id} is not an active account of unit {unit}",
                              "承办人须为本单位的在用账号，不能分办给其他单位的人员", field="assignee_id",
                              assignee_id=assignee_id)
        current = assign_repo.assignee(conn, case.id, unit)
        if current is not None and current.user_id == person.id:
            raise WorkConflict(f"case {case.number} is already assigned to user {person.id}",
                               f"此事项已由{person.display_name}承办", case_id=case.id)
        note = ASSIGNED if current is None else REASSIGNED
        if note == ASSIGNED and user_id_of(self.viewer.id) == person.id:
            note = CLAIMED
        return self._put(conn, case, note, person.id, person.display_name, current)

    def claim(self, conn: Connection, case_id: int, *, expected_version: int | None = None) -> CaseRow:
        """认领: take an unassigned case of my unit for myself."""
        me = user_id_of(self.viewer.id)
        if me is None:
            raise NotActingUnit("only a person's account may claim a case", "只有个人账号可以认领事项")
        case = self._open_case(conn, case_id, expected_version)
        current = assign_repo.assignee(conn, case.id, self.viewer.unit)
        if current is not None:
            raise WorkConflict(f"case {case.number} is already assigned to user {current.user_id}",
                               f"此事项已分办给{current.name}，不能认领；如需接手，请改派", case_id=case.id)
        return self._put(conn, case, CLAIMED, me, self.viewer.name, None)

    def _put(self, conn: Connection, case: CaseRow, note: str, user_id: int, name: str,
             previous: Assignee | None) -> CaseRow:
        payload = {"unit": self.viewer.unit, "assignee": f"user:{user_id}", "assignee_name": name,
                   "by_name": self.viewer.name}
        if previous is not None:
            payload.update(previous=f"user:{previous.user_id}", previous_name=previous.name)
        row = self.access.cases.annotate(conn, case, note, self.viewer.actor_on(case.task_force_code), payload)
        assign_repo.put(conn, case.id, self.viewer.unit, user_id, self.access.cases.clock.now())
        self.access.forget_acting(case.id)
        return row

    def share(self, conn: Connection, case_id: int, units: Iterable[str]) -> CaseRow:
        """抄送: let other units of the case's task force read it."""
        case = self.access.load(conn, case_id)
        if not may_share(self.access, conn, case):
            raise NotActingUnit("only an account of a party unit or the office may share a case",
                                "只有本事项的当事单位或专班办公室可以抄送", case_id=case.id)
        wanted = list(dict.fromkeys(u for u in units if u))
        if not wanted:
            raise BadAssignee("name at least one unit", "请选择抄送单位", field="units")
        bad = [u for u in wanted if not accounts_repo.unit_in_task_force(conn, u, case.task_force_code)]
        parties = [u for u in wanted if is_party(u, case.parties)]
        if bad or parties:
            raise BadAssignee(f"not units to share with: {', '.join(bad + parties)}",
                              ("以下单位不是本专班成员单位：" + "、".join(bad)) if bad else
                              "以下单位已是本事项的当事单位，无需抄送：" + "、".join(parties),
                              field="units", units=bad + parties)
        already = {u for u, _by, _at in assign_repo.shared_units(conn, case.id)}
        new = [u for u in wanted if u not in already]
        if not new:
            raise WorkConflict("already shared with every unit named", "所选单位均已抄送", case_id=case.id)
        row = self.access.cases.annotate(conn, case, SHARED, self.viewer.actor_on(case.task_force_code),
                                         {"units": new, "by_name": self.viewer.name})
        assign_repo.add_shares(conn, case.id, new, self.viewer.id, self.access.cases.clock.now())
        return row

    def reader_due_receipt(self, conn: Connection, case_id: int) -> bool:
        """Whether opening the case now is a shared-unit reader's first: a receipt is then written."""
        unit = self.viewer.unit
        if unit is None or not assign_repo.is_shared_with(conn, case_id, unit):
            return False
        case = self.access.load(conn, case_id)
        return not is_party(unit, case.parties) and not assign_repo.has_read(conn, case_id, self.viewer.id)

    def note_read(self, conn: Connection, case_id: int) -> bool:
        """已阅: the reader's first opening, as a receipt and a note row. False when none was due."""
        if not self.reader_due_receipt(conn, case_id):
            return False
        case = self.access.load(conn, case_id)
        self.access.cases.annotate(conn, case, READ, self.viewer.actor_on(case.task_force_code),
                                   {"reader": self.viewer.id, "reader_name": self.viewer.name,
                                    "unit": self.viewer.unit})
        assign_repo.add_receipt(conn, case.id, self.viewer.id, self.viewer.name, self.viewer.unit,
                                self.access.cases.clock.now())
        return True

