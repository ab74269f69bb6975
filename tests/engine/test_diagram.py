"""Mermaid diagrams are generated from the definition: every state and every transition appear."""

from __future__ import annotations

from pathlib import Path

from engine.diagram import mermaid
from engine.loader import load_definition, load_definition_file

ROOT = Path(__file__).resolve().parents[2]


def test_referral_diagram_has_every_state_and_transition():
    d = load_definition_file(ROOT / "workflows" / "two_lakes" / "definitions" / "referral.v1.yaml")
    text = mermaid(d)
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2" and "    [*] --> draft" in lines
    for s in d.states.values():
        assert f'    state "{s.title}" as {s.name}' in lines
    edges = [line for line in lines if " --> " in line and "[*]" not in line]
    assert len(edges) == sum(len(e.sources) for e in d.events.values())
    assert "    in_progress --> in_progress : 报送进展" in lines  # a self-loop
    assert {"    closed --> [*]", "    terminated --> [*]", "    referred_up --> [*]"} <= set(lines)


def test_keywords_and_special_characters_are_escaped():
    d = load_definition("""
name: t
version: 1
roles: {r: {kind: org}}
states:
  - {name: state, title: '开始; "引号" #1', initial: true}
  - {name: end, final: true}
create: {roles: [r]}
events:
  - {name: go, title: 'a: b {c}', from: state, to: end, roles: [r]}
""")
    text = mermaid(d)
    assert 'state "开始#59; #quot;引号#quot; #35;1" as s_state' in text
    assert "s_state --> s_end : a: b #123;c#125;" in text and "s_end --> [*]" in text
