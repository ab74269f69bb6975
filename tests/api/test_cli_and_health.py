"""The newcomer's path: `gongzhi init`, `gongzhi verify`, and /health answering."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from db.session import Database
from engine.actors import Actor
from engine.cases import Cases


def test_init_twice_then_verify(backend, fresh_url):
    url = fresh_url(backend)
    runner = CliRunner()
    first = runner.invoke(cli, ["init", "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "专班 two_lakes: organisation loaded" in first.output
    second = runner.invoke(cli, ["init", "--database-url", url])
    assert "organisation unchanged, 0 of" in second.output
    db = Database(url)
    try:
        office = Actor.of("o", "two_lakes_office", "office")
        case = Cases(db).start(task_force="two_lakes", workflow="referral", actor=office, title="清镇市红枫湖沿岸垃圾",
                               payload={"problem": "沿岸堆放生活垃圾", "cross_city": False})
        Cases(db).fire(case, "refer", office, {"receiver": "gy_qz_gov", "reason": "属地管理"})
        ok = runner.invoke(cli, ["verify", "--database-url", url])
        assert ok.exit_code == 0 and "OK: 1 cases" in ok.output
        with db.write() as conn:
            conn.exec_driver_sql("UPDATE cases SET state = 'closed'")
        broken = runner.invoke(cli, ["verify", "--database-url", url])
        assert broken.exit_code == 1 and "replays to 'referred'" in broken.output
    finally:
        db.dispose()


def test_health_reports_the_database(db):
    client = TestClient(create_app(db=db))
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": db.url.get_backend_name()}


def test_health_fails_when_the_database_is_gone(tmp_path):
    broken = Database(f"sqlite:///{tmp_path}/missing-dir/x/../../db.sqlite3")
    broken.engine.dispose()
    # A directory where the database file should be: SQLite cannot open it.
    (tmp_path / "db.sqlite3").mkdir()
    response = TestClient(create_app(db=broken)).get("/health")
    assert response.status_code == 503 and response.json()["status"] == "error"


def test_schedule_and_tick_commands(backend, fresh_url):
    url = fresh_url(backend)
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--database-url", url]).exit_code == 0
    first = runner.invoke(cli, ["schedule", "--from", "2026-01-01", "--to", "2026-01-31", "--database-url", url])
    # 1 January opens a half year, a quarter and a month: plenary, topical, inspection, 35 self-inspections,
    # 5 water data, 6 risk reports, the project list, one comprehensive and 5 sector enforcement actions.
    assert first.exit_code == 0 and first.output.startswith("56 个新案件"), first.output
    again = runner.invoke(cli, ["schedule", "--from", "2026-01-01", "--to", "2026-01-31", "--database-url", url])
    assert again.output.startswith("0 个新案件")
    ticked = runner.invoke(cli, ["tick", "--from", "2026-01-01", "--until", "2026-02-28", "--database-url", url])
    assert ticked.exit_code == 0, ticked.output
    assert "到 2026-02-28：新建" in ticked.output and "开启督办 5" in ticked.output
    bad = runner.invoke(cli, ["tick", "--until", "31/12/2026", "--database-url", url])
    assert bad.exit_code != 0 and "not a date like 2026-12-31" in bad.output
    assert runner.invoke(cli, ["verify", "--database-url", url]).exit_code == 0
