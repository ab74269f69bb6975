"""Drive a two-lakes case step by step, reloading it from the database before and after each step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from db.repositories.cases import CaseRow
from engine.actors import Actor
from engine.cases import Cases
from engine.views import links
from tests import tx

TF = "two_lakes"
OFFICE = Actor.of("office-1", "two_lakes_office", "office", name="专班办公室")
HEAD = Actor.of("head-1", "two_lakes_office", "office_head", name="专班办公室负责人")
CONVENOR = Actor.of("convenor-1", "gy_gov", "convenor", name="召集人")
INSPECTOR = Actor.of("inspector-1", "gy_swj", "inspector", name="联合排查人员")
GY_PROC = Actor.of("proc-gy", "gy_jcy", "procurator", name="贵阳市检察院检察官")
GY_CHIEF = Actor.of("chief-gy", "gy_jcy", "chief_procurator", name="贵阳市检察院检察长")
AS_CHIEF = Actor.of("chief-as", "as_jcy", "chief_procurator", name="安顺市检察院检察长")


def member(unit: str) -> Actor:
    """A unit's liaison (联络员)."""
    return Actor.of(f"{unit}-liaison", unit, "member")


class Flow:
    """One case: every step reads it back from the database, fires, and reads it back again."""

    def __init__(self, cases: Cases, case: CaseRow) -> None:
        self.cases, self.id = cases, case.id

    @classmethod
    def start(cls, cases: Cases, workflow: str, actor: Actor, title: str, *,
              parties: Mapping[str, list[str]] | None = None, version: int | None = None, **payload: Any) -> Flow:
        case = tx.start(cases, task_force=TF, workflow=workflow, actor=actor, title=title, parties=parties,
                        payload=payload, version=version)
        return cls(cases, case)

    @property
    def case(self) -> CaseRow:
        return tx.load(self.cases, self.id)

    @property
    def state(self) -> str:
        return self.case.state

    def fire(self, event: str, actor: Actor, expect: str | None = None, **payload: Any) -> CaseRow:
        before = tx.load(self.cases, self.id)
        after = tx.fire(self.cases, before, event, actor, payload)
        reloaded = tx.load(self.cases, self.id)
        assert (reloaded.state, reloaded.version, reloaded.head_hash) == (after.state, after.version,
                                                                          after.head_hash)
        if expect is not None:
            assert reloaded.state == expect, f"{event}: {reloaded.state} != {expect}"
        return reloaded

    def refused(self, error: type[Exception], event: str, actor: Actor, match: str | None = None,
                **payload: Any) -> Exception:
        """The event is refused and nothing about the case changes."""
        before = tx.load(self.cases, self.id)
        with pytest.raises(error, match=match) as info:
            tx.fire(self.cases, before, event, actor, payload)
        after = tx.load(self.cases, self.id)
        assert (after.state, after.version, after.head_hash, after.data) == (before.state, before.version,
                                                                           before.head_hash, before.data)
        return info.value

    def linked(self, kind: str | None = None, direction: str = "to") -> list[Flow]:
        """The cases this one links to (direction "to") or that link to it ("from"), by `kind`, as flows."""
        with self.cases.db.read() as conn:
            found = links(conn, self.id)
        return [Flow(self.cases, tx.load(self.cases, other)) for way, k, other, _ in found
                if way == direction and (kind is None or k == kind)]

    def linked_from(self, kind: str | None = None) -> list[Flow]:
        return self.linked(kind, "from")

    def events(self) -> list[str]:
        return [r.event for r in tx.history(self.cases, self.id)]
