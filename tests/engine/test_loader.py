"""Invalid definitions fail to load with a message naming the file, the line and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DefinitionError
from engine.loader import load_definition
from engine.publishing import read_task_force
from workflows import ROOT

GOOD = """\
name: t
version: 1
roles:
  office: {kind: org}
  handler: {kind: party}
create: {roles: [office]}
states:
  - {name: a, initial: true}
  - {name: b}
  - {name: z, final: true}
events:
  - {name: go, from: a, to: b, roles: [office]}
  - {name: end, from: b, to: z, roles: [handler]}
"""


def bad(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


def test_good_definition_loads():
    d = load_definition(GOOD, "t.yaml")
    assert d.initial == "a" and set(d.events) == {"go", "end"}
    assert len(d.content_hash) == 64
    # Layout and comments do not change the hash; content does.
    assert load_definition("# note\n" + GOOD, "t.yaml").content_hash == d.content_hash
    assert load_definition(bad("version: 1", "version: 2"), "t.yaml").content_hash != d.content_hash


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (bad("to: b, roles", "to: q, roles"), 12, "goes to unknown state 'q'"),
        (bad("from: a, to: b", "from: nowhere, to: b"), 12, "comes from unknown state 'nowhere'"),
        (bad("  - {name: b}\n", "  - {name: b}\n  - {name: island}\n"), 10, "state 'island' is unreachable from 'a'"),
        (GOOD + "  - {name: again, from: z, to: a, roles: [office]}\n", 14, "final state 'z' has an outgoing event 'again'"),
        (bad("roles: [handler]}", "roles: [handler], guards: [is_sunny]}"), 13, "unknown guard 'is_sunny'"),
        (bad("roles: [handler]}", "roles: [handler], effects: [send_fax]}"), 13, "unknown effect 'send_fax'"),
        (bad("roles: [handler]}", "roles: [judge]}"), 13, "unknown role 'judge'"),
        (bad("roles: [handler]}", "roles: [handler], guards: [{flag_set: {colour: red}}]}"), 13,
         "guard 'flag_set': missing argument(s) flag"),
        (bad("  - {name: a, initial: true}", "  - {name: a}"), 8, "exactly one state must be initial, found 0"),
        (bad("  - {name: b}", "  - {name: a}"), 9, "duplicate state 'a'"),
        (bad("create: {roles: [office]}", "create: {roles: [handler]}"), 6, "only organisation roles can open"),
        (bad("version: 1", "version: one"), 2, "version must be a positive integer"),  # the key's own line
        ("name: t\nname: u\n", 2, "duplicate key 'name'"),
        ("name: [unclosed\n", 2, "not valid YAML"),
    ],
)
def test_invalid_definition_names_the_problem(text, line, message):
    with pytest.raises(DefinitionError) as info:
        load_definition(text, "bad.yaml")
    err = info.value
    assert message in err.problem
    assert err.line == line, str(err)
    assert str(err).startswith(f"bad.yaml:{line}: ")


def test_org_roles_are_checked_against_the_organisation():
    with pytest.raises(DefinitionError) as info:
        load_definition(GOOD, "t.yaml", org_roles={"member"})
    assert "unknown role 'office'" in info.value.problem


def test_every_shipped_task_force_loads():
    folders = [p for p in ROOT.iterdir() if (p / "organisation.yaml").is_file()]
    assert folders
    for folder in folders:
        files = read_task_force(folder)
        assert files.definitions, folder


def test_a_published_version_cannot_change(db, clock):
    from engine.publishing import publish

    d1 = load_definition(GOOD.replace("name: t", "name: frozen_check"), "t.yaml")
    d1b = load_definition(GOOD.replace("name: t", "name: frozen_check").replace("{name: b}", "{name: b, title: 乙}"),
                          "t.yaml")
    with db.write() as conn:
        first, created = publish(conn, "toy", d1, clock)
        again, created_again = publish(conn, "toy", d1, clock)
    assert created and not created_again and first == again
    with pytest.raises(DefinitionError, match="already published with different content"), db.write() as conn:
        publish(conn, "toy", d1b, clock)


def test_fixture_folder_is_valid():
    files = read_task_force(Path(__file__).parent.parent / "fixtures" / "toy")
    assert [d.name for d in files.definitions] == ["batch", "chore", "ladder", "ticket"]


def test_a_version_that_cites_one_deadline_source_cites_every_one():
    deadlines = ("deadlines:\n"
                 "  reply: {amount: 5, unit: working_day, source: {law: 某联动机制, year: 2024, article: 第五条}}\n"
                 "  report: {amount: 3, unit: calendar_day}\n")
    text = GOOD.replace("create:", deadlines + "create:")
    with pytest.raises(DefinitionError) as info:
        load_definition(text, "t.yaml")
    assert "deadline 'report' has no source, but deadline 'reply' of this definition cites one" in info.value.problem
    assert info.value.line == 8
    cited = text.replace("report: {amount: 3, unit: calendar_day}",
                         "report: {amount: 3, unit: calendar_day, source: {law: 某联动机制, year: 2024, article: 第六条}}")
    d = load_definition(cited, "t.yaml")
    assert {name: dl.source.text for name, dl in d.deadlines.items()} == {
        "reply": "《某联动机制》（2024）第五条", "report": "《某联动机制》（2024）第六条"}
    # A version without any source still loads (published before sources were asked for).
    assert load_definition(GOOD.replace("create:", "deadlines:\n  reply: {amount: 5, unit: working_day}\ncreate:"),
                           "t.yaml").deadlines["reply"].source is None


def test_choices_links_and_periods_carry_what_a_person_reads():
    d = load_definition(bad("create: {roles: [office]}", "links: {agenda: 提请会议研究}\n"
                            "create:\n  roles: [office]\n  fields:\n"
                            "    kind: {type: choice, choices: {plenary: 全体会议, ad_hoc: 临时会议}}\n"
                            "    period: {type: period}"), "t.yaml")
    kind, period = d.create.fields
    assert kind.choices == ("plenary", "ad_hoc") and kind.choice_title("ad_hoc") == "临时会议"
    assert kind.choice_title("other") == "other" and period.type == "period"
    assert d.links == {"agenda": "提请会议研究"}
    with pytest.raises(DefinitionError, match="link kind 'agenda' needs a title"):
        load_definition(bad("create: {roles: [office]}", "links: {agenda: ''}\ncreate: {roles: [office]}"), "t.yaml")


def test_a_period_reads_in_chinese():
    from engine.periods import period_title

    assert [period_title(c) for c in ("2026-Q1", "2026-H2", "2026-M03", "2026", "2026-03-01", "第三季度")] == [
        "2026年第一季度", "2026年下半年", "2026年3月", "2026年", "2026年3月1日起", "第三季度"]
