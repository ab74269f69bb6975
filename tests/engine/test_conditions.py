"""Guards and effects with plain-data arguments: conditions (`where`), counts of units, parties,
jurisdictions, dates; and the field types for lists of records and of choices."""

from __future__ import annotations

import pytest

from engine.actors import Actor
from engine.clock import FixedClock
from engine.errors import DefinitionError, GuardFailed
from engine.loader import load_definition
from tests import tx
from tests.conftest import BGOV, OFFICE, A, B, local


def batch(cases, kind="small", actor=A, **payload):
    return tx.start(cases, task_force="toy", workflow="batch", actor=actor, title="批次", payload={"kind": kind, **payload})


TASK = [{"text": "t", "unit": "t_b_bureau", "mine": False}]


def test_where_makes_a_guard_apply_only_when_the_case_says_so(cases):
    small = batch(cases)
    assert tx.fire(cases, small.id, "issue", A, {"tasks": TASK}).state == "issued"
    big = batch(cases, kind="big")
    with pytest.raises(GuardFailed, match="sectors needs at least 2, has 1"):
        tx.fire(cases, big.id, "issue", A, {"tasks": TASK, "sectors": ["水务", "水务"]})
    assert tx.fire(cases, big.id, "issue", A, {"tasks": TASK, "sectors": ["水务", "交通"]}).state == "issued"


def test_where_makes_an_effect_apply_only_when_the_payload_says_so(cases):
    case = batch(cases)
    case = tx.fire(cases, case.id, "invite", A, {"major": False})
    assert "guest" not in case.parties and case.data["invitations"] == 1
    case = tx.fire(cases, case.id, "invite", A, {"major": True})
    assert case.parties["guest"] == ["t_b_gov"] and case.data["invitations"] == 2
    case = tx.fire(cases, case.id, "invite", A, {"major": True})
    assert case.parties["guest"] == ["t_b_gov"]


def test_units_must_be_invited_and_enough_of_a_kind(cases):
    case = tx.fire(cases, batch(cases).id, "invite", A, {"major": True})
    with pytest.raises(GuardFailed, match="t_b_bureau is not the guest"):
        tx.fire(cases, case.id, "seat", A, {"guests": ["t_b_gov", "t_b_bureau"]})
    # Two units, but only one department among them.
    with pytest.raises(GuardFailed, match="helpers needs at least 2, has 1"):
        tx.fire(cases, case.id, "seat", A, {"guests": ["t_b_gov"], "helpers": ["t_b_bureau", "t_b_gov"]})
    tx.fire(cases, case.id, "seat", A, {"guests": ["t_b_gov"], "helpers": ["t_b_bureau", "t_a_bureau"]})


def test_a_unit_in_another_city_is_refused_and_the_office_matches_any(cases):
    case = batch(cases)
    with pytest.raises(GuardFailed, match="跨市事项须报办公室"):
        tx.fire(cases, case.id, "hand_over", A, {"to": "t_b_gov"})
    tx.fire(cases, case.id, "hand_over", A, {"to": "t_a_bureau"})
    tx.fire(cases, case.id, "hand_over", A, {"to": "t_office"})
    office_case = batch(cases, actor=Actor.of("o2", "t_office", "member"))
    tx.fire(cases, office_case.id, "hand_over", Actor.of("o2", "t_office", "member"), {"to": "t_b_gov"})


def test_field_in_and_field_present_under_conditions(cases):
    big = batch(cases, kind="big")
    with pytest.raises(GuardFailed, match="position is '副组长', not one of 组长"):
        tx.fire(cases, big.id, "chair", OFFICE, {"position": "副组长", "delegate": "x"})
    tx.fire(cases, big.id, "chair", OFFICE, {"position": "组长"})
    small = batch(cases)
    with pytest.raises(GuardFailed, match="delegate is required here"):
        tx.fire(cases, small.id, "chair", OFFICE, {"position": "副组长"})
    tx.fire(cases, small.id, "chair", OFFICE, {"position": "副组长", "delegate": "常务副组长某"})


def test_an_organisation_role_alone_is_not_the_party(cases):
    case = batch(cases)
    with pytest.raises(GuardFailed, match="only the owner of this case"):
        tx.fire(cases, case.id, "own_act", B)
    tx.fire(cases, case.id, "own_act", A)
    assert tx.allowed_events(cases, case.id, BGOV) == ["own_act"]  # offered by role, refused by the guard


def test_past_due_and_a_date_far_enough_ahead(db):
    clock = FixedClock(local(2026, 3, 2, 9))
    from engine.cases import Cases

    cases = Cases(db, clock)
    case = batch(cases, due="2026-03-03")
    with pytest.raises(GuardFailed, match="not past its due date"):
        tx.fire(cases, case.id, "chase", OFFICE)
    clock.set(local(2026, 3, 4, 0, 1))
    tx.fire(cases, case.id, "chase", OFFICE)
    with pytest.raises(GuardFailed, match="must be on or after 2026-03-07") as refused:
        tx.fire(cases, case.id, "plan", OFFICE, {"day": "2026-03-06"})
    assert refused.value.reason.startswith("day（2026年3月6日）不得早于2026年3月7日 / ")  # Chinese first
    tx.fire(cases, case.id, "plan", OFFICE, {"day": "2026-03-07"})


@pytest.mark.parametrize(("fields", "message"), [
    ("{xs: {type: items}}", "of type items needs the fields of each item"),
    ("{xs: {type: items, fields: {ys: {type: items, fields: {a: string}}}}}", "unknown type 'items'"),
    ("{xs: {type: string, fields: {a: string}}}", "only a field of type items has fields"),
    ("{xs: {type: choices}}", "of type choices needs choices"),
])
def test_record_fields_are_checked_when_loading(fields, message):
    text = ("name: t\nversion: 1\nroles: {office: {kind: org}}\ncreate: {roles: [office]}\n"
            f"states: [{{name: a, initial: true}}]\nevents:\n  - {{name: go, from: a, roles: [office], fields: {fields}}}\n")
    with pytest.raises(DefinitionError, match=message):
        load_definition(text, "t.yaml")


def test_where_must_be_a_mapping():
    text = ("name: t\nversion: 1\nroles: {office: {kind: org}}\ncreate: {roles: [office]}\n"
            "states: [{name: a, initial: true}]\n"
            "events:\n  - {name: go, from: a, roles: [office], guards: [{flag_set: {flag: x, where: yes}}]}\n")
    with pytest.raises(DefinitionError, match="where must map"):
        load_definition(text, "t.yaml")


def test_a_card_is_declared_against_a_party_role():
    text = ("name: t\nversion: 1\nroles: {office: {kind: org}, unit: {kind: party}}\ncreate: {roles: [office]}\n"
            "states: [{name: a, initial: true}]\n"
            "events:\n  - {name: go, from: a, roles: [office], card: {kind: yellow, against: ROLE}}\n")
    assert load_definition(text.replace("ROLE", "unit"), "t.yaml").events["go"].card == ("yellow", "unit")
    with pytest.raises(DefinitionError, match="a card is against a party role"):
        load_definition(text.replace("ROLE", "office"), "t.yaml")
