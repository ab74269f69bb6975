"""The README's “Adding a mechanism”, followed literally: its files are written as given, its commands
run as given (against a scratch database and a scratch workflows folder holding only that mechanism)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import workflows
from api.cli import app

REPO = Path(__file__).resolve().parents[2]


def guide() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Adding a mechanism")
    return text[start:text.index("\n## ", start + 1)]


def blocks(section: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)


def test_the_guide_builds_a_mechanism_that_loads_runs_and_migrates(tmp_path, monkeypatch):
    section = guide()
    written = []
    for lang, body in blocks(section):
        first = body.splitlines()[0]
        if lang == "yaml" and first.startswith("# workflows/"):
            path = tmp_path / first[2:].strip()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
            written.append(path.relative_to(tmp_path).as_posix())
    assert written == ["workflows/river_patrol/organisation.yaml",
                       "workflows/river_patrol/definitions/patrol_task.v1.yaml",
                       "workflows/river_patrol/cadences.yaml", "workflows/river_patrol/tasks.yaml"]
    runner = CliRunner()

    # Step 5: `gongzhi check` on the folder with ten mistakes, run from the repository as written,
    # prints exactly what the guide shows (every problem at once) and exits 1.
    listed = blocks(section)
    at = next(i for i, (lang, body) in enumerate(listed) if lang == "sh" and "gongzhi check tests/" in body)
    line = listed[at][1].strip()
    shown_lang, shown = listed[at + 1]
    assert shown_lang == "text" and shown.count("\n") == 11
    monkeypatch.chdir(REPO)
    checked = runner.invoke(app, shlex.split(line)[1:])
    assert checked.exit_code == 1, checked.output
    assert checked.output == shown

    root = tmp_path / "workflows"
    monkeypatch.setattr(workflows, "ROOT", root)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'guide.sqlite3'}"

    def gongzhi(line: str) -> str:
        words = shlex.split(line)[1:]
        result = runner.invoke(app, words if words[0] == "check" else [*words, "--database-url", url])
        assert result.exit_code == 0, (line, result.output)
        return result.output

    commands = next(body for lang, body in blocks(section) if lang == "sh" and "gongzhi init" in body).splitlines()
    outputs = {}
    for line in commands:
        if line == "scripts/diagrams":
            subprocess.run([sys.executable, str(REPO / line), "--workflows", str(root)], check=True,
                           capture_output=True)
            assert (root / "river_patrol" / "diagrams" / "patrol_task.md").is_file()
        else:
            outputs[line.split()[1]] = gongzhi(line)
    assert outputs["check"].strip() == "无问题 / no problems"
    assert "专班 river_patrol: organisation loaded, 1 of 1 definitions newly published" in outputs["init"]
    assert outputs["load-items"].startswith("1 ")
    assert outputs["schedule"].startswith("12 ")
    assert outputs["verify"].startswith("OK: 13 cases")

    # Step 7: version 2 renames `open`; the guide's migrate-cases command, a dry run, then --apply.
    v1 = root / "river_patrol" / "definitions" / "patrol_task.v1.yaml"
    v2 = v1.read_text(encoding="utf-8").replace("version: 1", "version: 2").replace("name: open", "name: in_progress") \
        .replace("from: open", "from: in_progress")
    v1.with_name("patrol_task.v2.yaml").write_text(v2, encoding="utf-8")
    assert "0 of 2" not in gongzhi("gongzhi init")
    command = next(body for lang, body in blocks(section) if lang == "" and "migrate-cases" in body)
    command = command.replace("\\\n", " ").replace("[--apply]", "").strip()
    dry = gongzhi(command)
    assert "巡查任务-2026-0001: v1 open → v2 in_progress" in dry and "dry run" in dry
    assert "moved 1 case(s)" in gongzhi(command + " --apply")
    assert gongzhi("gongzhi verify").startswith("OK: 13 cases")
    refused = runner.invoke(app, [*shlex.split(command.replace("0001", "0002").replace(" --map open=in_progress", ""))[1:],
                                  "--database-url", url])
    assert refused.exit_code == 2 and "REFUSED" in refused.output
