"""A definition drawn as a Mermaid state diagram, generated from the definition itself."""

from __future__ import annotations

from engine.definition import Definition

# Words Mermaid's state-diagram grammar reads as keywords; a state so named gets a prefix.
_RESERVED = frozenset({"end", "state", "note", "direction", "class", "classdef", "style", "click", "default",
                       "as", "left", "right", "of", "fork", "join", "choice", "concurrent"})


def _node(name: str) -> str:
    return f"s_{name}" if name.lower() in _RESERVED else name


# Entity codes for the characters Mermaid's grammar uses, replaced in one pass.
_ESCAPES = str.maketrans({"#": "#35;", '"': "#quot;", ";": "#59;", "\\": "#92;", "{": "#123;", "}": "#125;",
                          "<": "#lt;", ">": "#gt;"})


def _label(text: str) -> str:
    """Text safe inside a Mermaid label."""
    return " ".join(text.split()).translate(_ESCAPES)


def mermaid(definition: Definition) -> str:
    """`stateDiagram-v2` text: every state with its title, every transition labelled with its event."""
    d = definition
    lines = ["stateDiagram-v2", f"    %% {d.name} v{d.version} — {_label(d.title)}"]
    for s in d.states.values():
        lines.append(f'    state "{_label(s.title or s.name)}" as {_node(s.name)}')
    lines.append(f"    [*] --> {_node(d.initial)}")
    for e in d.events.values():
        label = _label(e.title or e.name)
        for source in e.sources:
            lines.append(f"    {_node(source)} --> {_node(e.dest or source)} : {label}")
    for s in d.states.values():
        if s.final:
            lines.append(f"    {_node(s.name)} --> [*]")
    return "\n".join(lines) + "\n"
