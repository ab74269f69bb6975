"""The reading and acting rules, as pure functions of viewer, parties, task force and definition."""

from __future__ import annotations

from pathlib import Path

from engine.access import Viewer, acting_roles, can_read, is_party, read_scope, wide_roles
from engine.loader import load_definition_file

ROOT = Path(__file__).resolve().parents[2]
REFERRAL = load_definition_file(ROOT / "workflows" / "two_lakes" / "definitions" / "referral.v1.yaml")
BRIEFING = load_definition_file(ROOT / "tests" / "fixtures" / "api" / "briefing.v1.yaml")
PARTIES = {"referrer": ["gy_sthjj"], "receiver": ["gy_qz_gov"]}


def viewer(unit, *roles, task_force="two_lakes", office=False):
    return Viewer(f"user:{unit}", unit, unit, task_force, frozenset(roles), office)


def test_roles_derived_from_the_definition():
    # member only opens cases; system is the engine settling an escalated referral from the minutes
    assert wide_roles(REFERRAL) == {"office", "office_head", "convenor", "system"}
    assert "member" not in acting_roles(REFERRAL) and {"referrer", "receiver"} <= acting_roles(REFERRAL)
    assert "invited" not in acting_roles(BRIEFING)


def test_can_read():
    defs = [(1, REFERRAL), (2, BRIEFING)]
    member = read_scope(viewer("as_sthjj", "member"), defs)
    assert not can_read(member, "two_lakes", 1, PARTIES)
    assert can_read(read_scope(viewer("gy_qz_gov", "member"), defs), "two_lakes", 1, PARTIES)
    convenor = read_scope(viewer("gy_gov", "convenor"), defs)
    assert convenor.definition_ids == {1}
    assert can_read(convenor, "two_lakes", 1, PARTIES) and not can_read(convenor, "two_lakes", 2, {})
    assert not can_read(convenor, "toy", 1, PARTIES)  # roles stay in their task force
    office = read_scope(viewer("two_lakes_office", "office", office=True), defs)
    assert can_read(office, "two_lakes", 2, {}) and not can_read(office, "toy", 2, {})
    # Being a party is enough anywhere.
    assert can_read(read_scope(viewer("gy_qz_gov", task_force="toy"), []), "two_lakes", 1, PARTIES)


def test_actor_keeps_org_roles_at_home():
    v = viewer("two_lakes_office", "office")
    assert v.actor_on("two_lakes").roles == {"office"}
    assert v.actor_on("toy").roles == frozenset()
    assert is_party("gy_qz_gov", PARTIES) and not is_party(None, PARTIES)
