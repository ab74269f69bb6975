"""The schema models: JSON Schemas that validate every packaged file, the loader's structural checks
(unknown keys refused with the allowed ones), and workflows/README.md's tables kept current."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from engine import schema
from engine.bootstrap import task_force_folders
from engine.check import mechanism_files
from engine.errors import DefinitionError
from engine.loader import load_definition
from engine.schema.tables import committed, tables
from workflows import ROOT

PACKAGED = [(folder, path) for folder in task_force_folders(ROOT) for path in mechanism_files(folder)]


def _as_json(value):
    """What an editor's YAML extension hands the JSON Schema: dates as text."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("schema")
    result = CliRunner().invoke(app, ["schema", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_gongzhi_schema_writes_one_json_schema_per_kind(written):
    assert sorted(p.name for p in written.iterdir()) == sorted(f"{k}.schema.json" for k in schema.KINDS)
    for path in written.iterdir():
        spec = json.loads(path.read_text(encoding="utf-8"))
        jsonschema_rs.meta.validate(spec)  # a valid Draft 2020-12 schema
        assert spec["additionalProperties"] is False


def test_the_json_schemas_validate_every_packaged_file(written):
    assert len(PACKAGED) > 40
    validators = {k: jsonschema_rs.validator_for(json.loads((written / f"{k}.schema.json").read_text("utf-8")))
                  for k in schema.KINDS}
    for folder, path in PACKAGED:
        kind = schema.kind_of(path, folder)
        doc = _as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
        errors = [e.message for e in validators[kind].iter_errors(doc)]
        assert not errors, (path, errors[:3])
        bad = dict(doc, untill="2026-06-30") if kind != "definition" else dict(doc, titel="x")
        assert not validators[kind].is_valid(bad), path


def test_the_json_schema_carries_chinese_descriptions(written):
    spec = json.loads((written / "cadences.schema.json").read_text(encoding="utf-8"))
    until = spec["$defs"]["Cadence"]["properties"]["until"]
    assert "活动结束日" in until["description"]
    guards = json.loads((written / "definition.schema.json").read_text(encoding="utf-8"))["$defs"]["Guard"]
    assert "min_count" in guards["properties"] and guards["maxProperties"] == 1


GOOD = """\
name: t
version: 1
roles:
  office: {kind: org}
create: {roles: [office]}
states:
  - {name: a, initial: true}
events:
  - {name: go, from: a, roles: [office]}
"""


@pytest.mark.parametrize(("old", "new", "line", "said"), [
    ("version: 1", "version: 1\ntitel: 测试", 3,
     "unknown key 'titel' (did you mean 'title'?) — allowed: name, version, title"),
    ("from: a, roles: [office]}\n", "from: a, roles: [office], guards: [{min_count: {field: x, count: two}}]}\n", 9,
     "count must be a whole number, not 'two'"),
    ("from: a, roles: [office]}\n", "from: a, roles: [office], effects: [{record: {fields: x}}]}\n", 9,
     "effect 'record': unknown argument(s) fields (did you mean 'field'?) — takes field, key, where"),
    ("{name: a, initial: true}", "{name: a, initial: true, colour: green}", 7, "colour 'green' is not allowed"),
    ("from: a, roles: [office]}\n", "from: a, roles: [office], fields: {k: {type: choice, choices: [1, 2]}}}\n", 9,
     "choices 1, 2: numbers where text is needed — write them in quotes: ['1', '2']"),
])
def test_the_loader_refuses_what_the_schema_refuses_at_its_line(old, new, line, said):
    with pytest.raises(DefinitionError) as info:
        load_definition(GOOD.replace(old, new), "t.yaml")
    assert said in info.value.problem
    assert info.value.line == line, str(info.value)


def test_workflows_readme_tables_are_generated_from_the_models():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert committed(readme) == tables(), "run: python -m engine.schema.tables (rewrites workflows/README.md)"
    assert "| `untill`" not in readme and "| `until` | date |" in readme
    result = CliRunner().invoke(app, ["schema", "--markdown"])
    assert result.exit_code == 0 and result.output == tables()
