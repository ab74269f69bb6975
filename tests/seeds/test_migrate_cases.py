"""Issue 8: a definition changes while cases run. Version 2 of the two-lakes action item is published
while cases run on version 1; half of them move to version 2 with an explicit state mapping, both
groups keep working, each move is in the case's history (and can be undone), and replay still holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from api.cli import app
from db.repositories import definitions as defs_repo
from db.session import Database
from documents import records
from engine import migration
from engine.actors import Actor
from engine.bootstrap import init_database
from engine.cases import SYSTEM, Cases
from engine.clock import FixedClock, SystemClock
from engine.loader import load_definition
from engine.publishing import publish
from tests import tx
from workflows import ROOT

OFFICE = Actor.of("o-1", "two_lakes_office", "office", "office_head", name="办公室")
GY_SWJ = Actor.of("m-1", "gy_swj", "member", name="贵阳市水务局")
# The newest packaged version, which new cases start on; the test publishes the version after it.
PACKAGED = max((ROOT / "two_lakes" / "definitions").glob("action_item.v*.yaml"),
               key=lambda p: int(p.name.split(".v")[1].split(".")[0]))
CUR = int(PACKAGED.name.split(".v")[1].split(".")[0])
NEXT = CUR + 1


@pytest.fixture(scope="module")
def fresh(backend, fresh_url):
    url = fresh_url(backend)
    db = Database(url)
    init_database(db, ROOT, FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    yield db, url
    db.dispose()


def next_version() -> str:
    """The next version renames 延期待批 and adds nothing else: a case waiting on an extension must be mapped."""
    text = PACKAGED.read_text(encoding="utf-8").replace(f"version: {CUR}", f"version: {NEXT}")
    return text.replace("extension_pending, title: 延期待批", "extension_requested, title: 已申请延期") \
               .replace("extension_pending", "extension_requested")


def test_publish_v2_migrate_half_both_groups_work_and_move_back(fresh, monkeypatch):
    db, url = fresh
    clock = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), step=timedelta(seconds=1))
    cases = Cases(db, clock)
    started = [tx.start(cases, task_force="two_lakes", workflow="action_item", actor=OFFICE, title=f"议定事项{i}",
                        payload={"task": f"事项{i}", "responsible_unit": "gy_swj", "due": "2026-06-30"})
               for i in range(4)]
    for c in started[2:] + started[:1]:
        tx.fire(cases, c.id, "request_extension", GY_SWJ, {"new_due": "2026-09-30", "reason": "汛期"})
    tx.fire(cases, started[1].id, "report_progress", GY_SWJ, {"progress": "已完成方案编制"})
    v1_id = started[0].definition_id

    with db.write() as conn:
        new_id, fresh_publish = publish(conn, "two_lakes", load_definition(next_version(), "v2"), clock)
    assert fresh_publish and new_id != v1_id
    # New cases start on the latest version; running ones stay where they are.
    newer = tx.start(cases, task_force="two_lakes", workflow="action_item", actor=OFFICE, title="新议定事项",
                     payload={"task": "新事项", "responsible_unit": "gy_swj", "due": "2026-06-30"})
    assert newer.definition_id == new_id
    assert {tx.load(cases, c.id).definition_id for c in started} == {v1_id}

    chosen = [started[0].number, started[1].number]  # one waiting on an extension, one open
    with db.read() as conn:
        refused = migration.plan(cases, conn, task_force="two_lakes", workflow="action_item", to_version=NEXT,
                                 numbers=chosen)
    assert [m.number for m in refused.moves if m.problem] == [started[0].number]
    assert "extension_pending" in refused.problems[0]
    with db.write() as conn, pytest.raises(migration.MigrationRefused):
        migration.apply(cases, conn, refused, SYSTEM)
    with db.read() as conn, pytest.raises(migration.MigrationRefused):
        migration.plan(cases, conn, task_force="two_lakes", workflow="action_item", to_version=NEXT,
                       numbers=chosen, mapping={"extension_pending": "no_such_state"})
    assert tx.load(cases, started[0].id).definition_id == v1_id

    # The CLI: a dry run shows the plan and moves nothing; --apply moves. It runs on this test's clock:
    # rows dated on the machine's would lie after the ones that follow, which a history refuses.
    monkeypatch.setattr(SystemClock, "now", lambda self: clock.now())
    runner = CliRunner()
    args = ["migrate-cases", "--task-force", "two_lakes", "--workflow", "action_item", "--to-version", str(NEXT),
            "--case", chosen[0], "--case", chosen[1], "--map", "extension_pending=extension_requested",
            "--database-url", url, "--reason", "议定事项流程第2版"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"extension_pending → v{NEXT} extension_requested" in result.output and "dry run" in result.output
    assert tx.load(cases, started[0].id).definition_id == v1_id
    stranded = runner.invoke(app, args[:-6] + ["--database-url", url])
    assert stranded.exit_code == 2 and "REFUSED" in stranded.output
    result = runner.invoke(app, [*args, "--apply"])
    assert result.exit_code == 0, result.output
    assert "moved 2 case(s)" in result.output

    moved = [tx.load(cases, started[0].id), tx.load(cases, started[1].id)]
    kept = [tx.load(cases, started[2].id), tx.load(cases, started[3].id)]
    assert [c.definition_id for c in moved] == [new_id, new_id]
    assert [c.state for c in moved] == ["extension_requested", "open"]
    assert [c.state for c in kept] == ["extension_pending", "extension_pending"]
    last = tx.history(cases, moved[0].id)[-1]
    assert (last.kind, last.from_state, last.to_state) == ("migrate", "extension_pending", "extension_requested")
    assert last.payload["from_version"] == CUR and last.payload["to_version"] == NEXT
    assert last.payload["reason"] == "议定事项流程第2版"
    assert tx.verify(cases) == []
    with db.read() as conn:  # a document's record replays the case across the move
        assert records.load(conn, moved[1].id).get("progress") == "已完成方案编制"

    # Both groups keep working on their own version.
    tx.fire(cases, moved[0].id, "grant_extension", OFFICE, {"new_due": "2026-09-30"})
    tx.fire(cases, kept[0].id, "grant_extension", OFFICE, {"new_due": "2026-09-30"})
    tx.fire(cases, kept[1].id, "deny_extension", OFFICE, {"reason": "理由不足"})
    tx.fire(cases, moved[1].id, "request_extension", GY_SWJ, {"new_due": "2026-09-30", "reason": "汛期"})
    assert tx.load(cases, moved[1].id).state == "extension_requested"
    for c in (*moved, *kept):
        if tx.load(cases, c.id).state == "open":
            tx.fire(cases, c.id, "report_done", GY_SWJ, {"result": "已完成"})
    assert tx.replay(cases, moved[0].id) == tx.load(cases, moved[0].id).state == "done_reported"
    assert tx.verify(cases) == []

    # And back: the open one returns to the version it started on, its history showing both moves.
    with db.write() as conn:
        back = migration.plan(cases, conn, task_force="two_lakes", workflow="action_item", to_version=CUR,
                              numbers=[moved[0].number])
        migration.apply(cases, conn, back, SYSTEM, "退回第1版")
    again = tx.load(cases, moved[0].id)
    assert again.definition_id == v1_id and again.state == "done_reported"
    assert [r.kind for r in tx.history(cases, again.id)].count("migrate") == 2
    tx.fire(cases, again.id, "verify_pass", OFFICE, {})
    assert tx.load(cases, again.id).state == "closed" and tx.load(cases, again.id).closed
    assert tx.verify(cases) == []
    with db.read() as conn:
        assert defs_repo.row_of(conn, new_id) == ("two_lakes", "action_item", NEXT)
