"""The simulation driver is generic: its file is checked (unknown generators, keys and events refused),
its values are built from data, and its code names nothing of any mechanism."""

from __future__ import annotations

import ast
import random
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from engine.check import check_folder
from simulation.driver import SimulationFileError, read
from simulation.values import Scope, Unavailable, condition, value
from workflows import ROOT

PACKAGE = Path(__file__).resolve().parents[2] / "simulation"


def _names_of_every_mechanism() -> set[str]:
    """Workflow, state and party-role names of every definition, and every unit code of every task force."""
    names: set[str] = set()
    for folder in ROOT.iterdir():
        if not (folder / "organisation.yaml").is_file():
            continue
        org = yaml.safe_load((folder / "organisation.yaml").read_text(encoding="utf-8"))
        names |= {u["code"] for u in org.get("units", [])}
        for path in (folder / "definitions").glob("*.yaml"):
            d = yaml.safe_load(path.read_text(encoding="utf-8"))
            names.add(d["name"])
            names |= {s["name"] for s in d.get("states") or []}
            names |= {r for r, spec in (d.get("roles") or {}).items() if spec.get("kind") == "party"}
    return names


def test_the_driver_names_no_workflow_state_role_or_unit():
    names = _names_of_every_mechanism()
    assert {"meeting", "referral", "gy_swj", "notice_issued"} <= names  # the scan sees the two lakes
    found = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                found.add((path.name, node.value))
    assert found == set()


def _folder(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "two_lakes"
    shutil.copytree(ROOT / "two_lakes", folder)
    spec = yaml.safe_load((folder / "simulation.yaml").read_text(encoding="utf-8"))
    edit(spec)
    (folder / "simulation.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return folder


def test_an_unknown_generator_or_step_key_is_refused_before_anything_runs(tmp_path):
    def edit(spec):
        spec["workflows"]["meeting"][0]["payload"] = {"item": {"$eval": "1 + 1"}}
        spec["workflows"]["referral"][0]["wehn"] = ["entered", 1, 2]

    with pytest.raises(SimulationFileError) as err:
        read(_folder(tmp_path, edit))
    said = str(err.value)
    assert "workflows.meeting[0]: unknown generator $eval" in said
    assert "workflows.referral[0]: unknown key wehn" in said


def test_gongzhi_check_refuses_an_event_the_workflow_lacks(tmp_path):
    def edit(spec):
        spec["workflows"]["meeting"][1]["event"] = "approve_agendas"

    problems = [str(p) for p in check_folder(_folder(tmp_path, edit))]
    assert len(problems) == 1 and "meeting has no event 'approve_agendas'" in problems[0]
    assert "did you mean 'approve_agenda'" in problems[0]


class _Sim:
    """What values read of a simulation, with hand-set units and pools."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.today = date(2026, 3, 2)
        self.year = 2026
        self.pools = {"places": {"a": ["甲镇", "乙镇"], "b": ["丙乡"]}}
        self.units = {"u1": ("government", "a"), "u2": ("government", "b"), "u3": ("government", "b")}

    def unit_set(self, name):
        return sorted(self.units)

    def name(self, unit):
        return {"u1": "一号", "u2": "二号", "u3": "三号"}[unit]


def test_values_are_built_from_data_with_one_rng():
    spec = {"$let": {"city": "b"},
            "in": {"unit": {"$unit": "locals", "city": {"$var": "city"}, "except": ["u2"]},
                   "place": {"$pick": {"$pool": "places", "key": {"$var": "city"}}},
                   "due": {"$days": 5},
                   "text": {"$format": "{u}：{n}个", "with": {"u": {"$name": "u1"}, "n": {"$len": [1, 2, 3]}}},
                   "kept": {"$if": {"var_equal": ["city", "city"]}, "then": "yes", "else": "no"}}}
    got = value(spec, Scope(_Sim(1), None))
    # Only u3 is in city b once u2 is left out; 丙乡 is b's only place; 2 March + 5 days.
    assert got == {"unit": "u3", "place": "丙乡", "due": "2026-03-07", "text": "一号：3个", "kept": "yes"}
    # The same seed draws the same list; a list's length comes from the weighted counts.
    repeat = {"$repeat": [0, 3], "weights": [0, 1], "item": {"$int": [1, 100]}}
    first, again = value(repeat, Scope(_Sim(7), None)), value(repeat, Scope(_Sim(7), None))
    assert first == again and len(first) == 3
    with pytest.raises(Unavailable):
        value({"$unit": "locals", "city": "c"}, Scope(_Sim(1), None))
    assert condition({"any": [{"var_below": {"x": 0.5}}, {"var": "y"}]}, Scope(_Sim(1), None, {"x": 0.7, "y": 1}))
    assert not condition({"var_above": {"x": 0.8}}, Scope(_Sim(1), None, {"x": 0.7}))
