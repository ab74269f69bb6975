"""`gongzhi check` reports every problem of a task force at once, with its line, without a database;
`gongzhi init` refuses a task force with problems and still loads the others."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from db.session import Database
from engine.bootstrap import init_database, task_force_folders
from engine.check import check_folder, check_root
from workflows import ROOT

REPO = Path(__file__).resolve().parents[2]
MISTAKES = REPO / "tests" / "fixtures" / "mistakes" / "river_patrol"
FOLDER = "tests/fixtures/mistakes/river_patrol"

# The ten mistakes of the fixture folder: (file:line, what the line must say).
TEN = [
    ("cadences.yaml:7", "unknown key 'untill' (did you mean 'until'?) — allowed: code, title, workflow, every, from, until"),
    ("cadences.yaml:11", "cadence 'monthly_patrol' fills 'reach', which is no create field of patrol_task v1"),
    ("definitions/patrol_task.v1.yaml:24", "goes to unknown state 'dnoe' (did you mean 'done'?) — states: done, open"),
    ("definitions/patrol_task.v1.yaml:28", "choices 1, 2, 3: numbers where text is needed — write them in quotes"),
    ("definitions/patrol_task.v1.yaml:31", "effect 'increment' counts in 'result', which is a text field"),
    ("definitions/patrol_task.v1.yaml:32", "where names 'grdae', which no field or effect of this definition provides "
                                           "(did you mean 'grade'?)"),
    ("definitions/patrol_task.v1.yaml:34", "unknown document kind 'minuts' (did you mean 'minutes'?) — document kinds:"),
    ("organisation.yaml:13", "jurisdiction code 'gy' is already used by workflows/two_lakes/organisation.yaml"),
    ("organisation.yaml:16", "unit code 'gy_swj' is already used by workflows/two_lakes/organisation.yaml"),
    ("tasks.yaml:5", "not valid YAML: expected <block end>, but found '<block mapping start>'"),
]


def test_the_ten_mistakes_come_out_in_one_run_one_per_line(monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, ["check", FOLDER])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "10 个问题 problem(s)"
    assert len(lines) == 11 and "Traceback" not in result.output
    for (where, said), line in zip(TEN, lines, strict=False):
        assert line.startswith(f"{FOLDER}/{where}: "), (where, line)
        assert said in line, (said, line)


def test_the_packaged_task_forces_have_no_problems():
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "无问题 / no problems"
    assert all(not found for found in check_root(ROOT).values())


def test_files_of_the_wrong_shape_are_reported_never_raised(tmp_path):
    folder = tmp_path / "odd"
    (folder / "definitions").mkdir(parents=True)
    (folder / "organisation.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    (folder / "definitions" / "x.v1.yaml").write_text("name: x\nversion: 1\nroles: 3\nstates: {a: 1}\n"
                                                      "events: [1, {name: go}]\ncreate: []\n", encoding="utf-8")
    (folder / "cadences.yaml").write_text("cadences: {a: 1}\n", encoding="utf-8")
    (folder / "naming.yaml").write_text("naming:\n  x: [1]\n", encoding="utf-8")
    (folder / "list.yaml").write_text("workflow: x\nitems: [{key: 1}]\n", encoding="utf-8")
    (folder / "notifications.yaml").write_text("\tbad: tab\n", encoding="utf-8")
    found = check_folder(folder)
    files = {p.file.rsplit("/", 1)[-1] for p in found}
    assert files == {"organisation.yaml", "x.v1.yaml", "cadences.yaml", "naming.yaml", "list.yaml",
                     "notifications.yaml"}, found
    assert any("roles must map keys to values" in p.what for p in found)
    assert any(p.what.startswith("event 'go' is missing 'from'") for p in found), found


def test_init_refuses_the_broken_task_force_and_loads_the_others(backend, fresh_url, tmp_path):
    root = tmp_path / "workflows"
    shutil.copytree(ROOT / "huzhou", root / "huzhou")
    db = Database(fresh_url(backend))
    try:
        assert init_database(db, root)["huzhou"]["definitions_published"] >= 1
        # A newcomer reuses a unit code huzhou holds: the newcomer is refused, huzhou loads on.
        shutil.copytree(MISTAKES, root / "river_patrol")
        org = root / "river_patrol" / "organisation.yaml"
        org.write_text(org.read_text(encoding="utf-8").replace("gy_swj", "hz_sthjj"), encoding="utf-8")
        report = init_database(db, root)
        assert report["huzhou"]["organisation_changed"] == 0 and "problems" not in report["huzhou"]
        problems = report["river_patrol"]["problems"]
        assert len(problems) == 9, problems  # within this root, 'gy' is nobody else's jurisdiction
        assert any("unit code 'hz_sthjj' is already used by" in p for p in problems)
        assert any("unknown key 'untill'" in p for p in problems)
        with db.read() as conn:
            from sqlalchemy import text

            assert conn.execute(text("select count(*) from task_forces where code = 'river_patrol'")).scalar() == 0
            assert conn.execute(text("select count(*) from task_forces where code = 'huzhou'")).scalar() == 1
    finally:
        db.dispose()


def test_two_folders_sharing_a_code_are_both_refused(tmp_path):
    for name in ("a_tf", "b_tf"):
        shutil.copytree(ROOT / "xiangtan", tmp_path / name)
    found = check_root(tmp_path)
    for folder in task_force_folders(tmp_path):
        assert any("task force code 'xiangtan' is already used" in str(p) for p in found[folder])
        assert any("unit code" in str(p) and "is already used" in str(p) for p in found[folder])


def test_any_line_taken_out_of_a_folder_gives_problems_never_a_traceback(tmp_path):
    source = ROOT / "xiangtan"
    lines = (source / "definitions" / "key_task.v1.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    cut = [i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    assert len(cut) > 40
    for n, i in enumerate(cut[::3]):
        folder = tmp_path / f"v{n}"
        shutil.copytree(source, folder)
        (folder / "definitions" / "key_task.v1.yaml").write_text("".join(lines[:i] + lines[i + 1:]), encoding="utf-8")
        found = check_folder(folder)  # raises nothing
        assert all(p.file and "could not be checked" not in p.what for p in found), (i, found)


def test_gongzhi_init_names_the_refused_task_force_and_loads_the_others(tmp_path, monkeypatch):
    import workflows

    root = tmp_path / "workflows"
    shutil.copytree(ROOT / "xiangtan", root / "xiangtan")
    shutil.copytree(MISTAKES, root / "river_patrol")
    monkeypatch.setattr(workflows, "ROOT", root)
    result = CliRunner().invoke(app, ["init", "--database-url", f"sqlite:///{tmp_path / 'init.sqlite3'}"])
    assert result.exit_code == 1, result.output
    assert "专班 xiangtan: organisation loaded, 2 of 2 definitions newly published" in result.output  # key_task v1 and v2
    assert "专班 river_patrol: 未载入 NOT loaded — 8 个问题 problem(s):" in result.output
    assert "river_patrol/cadences.yaml:7: unknown key 'untill'" in result.output
    assert "Traceback" not in result.output


def test_graph_and_notification_mistakes_are_collected_too(tmp_path):
    folder = tmp_path / "xiangtan"
    shutil.copytree(ROOT / "xiangtan", folder)
    definition = folder / "definitions" / "key_task.v1.yaml"
    text = definition.read_text(encoding="utf-8")
    assert "initial: true}" in text
    definition.write_text(text.replace("initial: true}", "initial: true}\n  - {name: island}", 1), encoding="utf-8")
    rules = folder / "notifications.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("when: report_done", "when: report_dne", 1)
                     .replace("to: [{party: lead}, {party: cooperating}]", "to: [{party: led}, {role: nobody}]", 1)
                     .replace("重点任务交办：{title}", "重点任务交办：{titel}", 1), encoding="utf-8")
    said = [str(p) for p in check_folder(folder)]
    for part in ("state 'island' is unreachable from 'open'", "when 'report_dne' is no event of key_task "
                 "(did you mean 'report_done'?)", "'led' is no party role of key_task (did you mean 'lead'?)",
                 "'nobody' is no organisation role", "unknown placeholder {titel} (did you mean 'title'?)"):
        assert sum(part in line for line in said) == 1, (part, said)
    assert len(said) == 5, said


def test_a_worklist_naming_no_event_is_reported_with_did_you_mean(tmp_path):
    folder = tmp_path / "two_lakes"
    shutil.copytree(ROOT / "two_lakes", folder)
    worklist = folder / "worklist.yaml"
    text = worklist.read_text(encoding="utf-8")
    assert "    - merge\n" in text
    worklist.write_text(text.replace("    - merge\n", "    - mrege\n"), encoding="utf-8")
    said = [str(p) for p in check_folder(folder)]
    assert len(said) == 1 and "problem_item has no event 'mrege' in any version (did you mean 'merge'?)" in said[0]


def test_figures_files_are_checked_for_their_shape_and_their_names(tmp_path):
    folder = tmp_path / "eco_fund"
    shutil.copytree(REPO / "tests" / "fixtures" / "eco_fund", folder)
    assert check_folder(folder) == []
    figures = folder / "figures.yaml"
    text = figures.read_text(encoding="utf-8")
    figures.write_text(text.replace("    title: 本年度已确认的月度考核", "    titel: 本年度已确认的月度考核"), encoding="utf-8")
    assert [(p.line, p.what) for p in check_folder(folder)] == [(4, "unknown key 'titel' (did you mean 'title'?)")]
    figures.write_text(text.replace("states: [confirmed]", "states: [confirmd]"), encoding="utf-8")
    [problem] = check_folder(folder)
    assert problem.line == 4 and "monitoring has no state 'confirmd'" in problem.what


def test_a_folder_that_is_no_task_force_gets_one_line_not_a_list_of_made_up_problems():
    problems = check_folder(ROOT / "calendar")
    assert [(p.what, p.allowed) for p in problems] == [("no organisation.yaml", "a task force folder starts with one")]
