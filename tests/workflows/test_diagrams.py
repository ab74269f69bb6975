"""The committed diagram pages are exactly what scripts/diagrams generates from the current definitions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_committed_diagrams_match_the_definitions():
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "diagrams"), "--check"], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, f"run scripts/diagrams and commit the result:\n{done.stdout}{done.stderr}"


def test_a_page_shows_every_state_and_the_events_of_its_workflow():
    text = (REPO / "workflows" / "two_lakes" / "diagrams" / "problem_item.md").read_text(encoding="utf-8")
    assert "```mermaid\nstateDiagram-v2\n" in text
    assert "    closed_out --> rectifying : 回头看发现反弹，重新整改" in text
    assert "| `relapse` | 回头看发现反弹，重新整改 | closed_out → rectifying |" in text
