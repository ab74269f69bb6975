"""Who acts: a person (or the clock) speaking for a unit with some organisation roles."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    unit: str | None
    roles: frozenset[str] = field(default_factory=frozenset)
    name: str = ""
    # False while the unit's share of the case is assigned to a colleague this actor does not stand in
    # for (engine/acting.py): the actor keeps its organisation roles, not its unit's party roles.
    party_roles: bool = True

    @classmethod
    def of(cls, id: str, unit: str | None, *roles: str, name: str = "") -> Actor:
        return cls(id=id, unit=unit, roles=frozenset(roles), name=name)

    def roles_on(self, parties: dict[str, list[str]]) -> frozenset[str]:
        """Organisation roles plus the party roles this actor's unit holds on a case."""
        if self.unit is None or not self.party_roles:
            return self.roles
        held = [role for role, units in parties.items() if self.unit in units]
        return self.roles.union(held) if held else self.roles
