"""Runs last in this folder: together, the scenario tests fire every event of every two-lakes workflow
(and open a case of each). A path no scenario takes is a path nobody has seen work."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.publishing import read_task_force
from tests.workflows.conftest import FIRED, MODULES
from workflows import ROOT

HERE = Path(__file__).parent


def test_every_event_of_every_workflow_is_exercised(db):
    scenarios = {p.stem for p in HERE.glob("test_*.py")} - {Path(__file__).stem, "test_diagrams"}
    if not scenarios <= MODULES:
        pytest.skip(f"only part of the scenarios ran ({', '.join(sorted(scenarios - MODULES))} did not)")
    missing = sorted(f"{d.name}.{event}" for d in read_task_force(ROOT / "two_lakes").definitions
                     for event in ("create", *d.events) if (d.name, event) not in FIRED)
    assert missing == []
