"""The clock commands on real databases: the demo's hand-over from simulation to real time, scoped
scheduling, and `gongzhi fire` for an operator's scripted correction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli import app as cli
from db.models import Case
from db.session import Database
from engine.cases import Cases
from engine.clock import FixedClock
from engine.publishing import load_task_force
from engine.scheduler import claim_clock
from tests import tx
from tests.conftest import FIXTURES, A, end_of, local

runner = CliRunner()


def test_a_past_simulation_hands_over_to_real_time_and_then_refuses_ticks(fresh_url):
    url = fresh_url("sqlite")
    done = runner.invoke(cli, ["simulate", "--year", "2026", "--until", "2026-01-20", "--database-url", url])
    assert done.exit_code == 0, done.output
    db = Database(url)
    try:
        claim_clock(db, "real", by="gongzhi serve")  # what `gongzhi serve` does at start: accepted
        once = runner.invoke(cli, ["clock", "--once", "--database-url", url])
        assert once.exit_code == 0, once.output
        refused = runner.invoke(cli, ["tick", "--until", "2026-02-01", "--database-url", url])
        assert refused.exit_code == 2 and "按真实时间运行" in refused.output and "--force" in refused.output
        assert runner.invoke(cli, ["verify", "--database-url", url]).exit_code == 0
    finally:
        db.dispose()


def test_a_simulation_ahead_of_real_time_keeps_the_real_clock_out(fresh_url):
    url = fresh_url("sqlite")
    assert runner.invoke(cli, ["init", "--database-url", url]).exit_code == 0
    ahead = runner.invoke(cli, ["tick", "--from", "2099-01-01", "--until", "2099-01-02", "--task-force", "huzhou",
                                "--database-url", url])
    assert ahead.exit_code == 0, ahead.output
    refused = runner.invoke(cli, ["clock", "--once", "--database-url", url])
    assert refused.exit_code == 2 and "2099年1月3日" in refused.output and "ahead of the real time" in refused.output


def test_scoped_schedule_creates_no_case_in_another_task_force(backend, fresh_url):
    url = fresh_url(backend)
    assert runner.invoke(cli, ["init", "--database-url", url]).exit_code == 0
    done = runner.invoke(cli, ["schedule", "--from", "2018-07-01", "--to", "2018-07-31", "--task-force", "huzhou",
                               "--database-url", url])
    assert done.exit_code == 0, done.output
    db = Database(url)
    try:
        with db.read() as conn:
            by_tf = dict(conn.execute(select(Case.task_force_code, func.count()).group_by(Case.task_force_code)).all())
    finally:
        db.dispose()
    assert list(by_tf) == ["huzhou"] and done.output.startswith(f"{by_tf['huzhou']} 个新案件")
    unknown = runner.invoke(cli, ["schedule", "--from", "2018-07-01", "--to", "2018-07-31", "--task-force", "nope",
                                  "--database-url", url])
    assert unknown.exit_code == 2 and "no task force nope" in unknown.output


def test_fire_as_an_account_goes_through_the_apis_checks(backend, fresh_url):
    url = fresh_url(backend)
    assert runner.invoke(cli, ["init", "--database-url", url]).exit_code == 0
    db = Database(url)
    try:
        with db.write() as conn:
            load_task_force(conn, FIXTURES / "toy", FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
        case = tx.start(Cases(db, FixedClock(local(2026, 3, 2, 10))),
            task_force="toy", workflow="ticket", actor=A, title="脚本更正", payload={"summary": "s"})
        for user, unit in (("alice", "t_a_bureau"), ("zhao", "t_b_gov")):
            made = runner.invoke(cli, ["user", "add", user, "--unit", unit, "--role", "member", "--task-force", "toy",
                                       "--password-stdin", "--database-url", url], input="password-123\n")
            assert made.exit_code == 0, made.output

        fired = runner.invoke(cli, ["fire", case.number, "assign", "--field", "handler=t_b_bureau",
                                    "--field", "due=2026-03-10", "--as", "alice", "--database-url", url])
        assert fired.exit_code == 0, fired.output
        assert f"case {case.number} is now in state assigned (version 2)" in fired.output
        assert "已办理" in fired.output
        after = tx.load(Cases(db), case.id)
        # The date typed as text was read as the page form reads it: the due date is that day's end.
        assert after.parties["handler"] == ["t_b_bureau"] and after.due_at == end_of(2026, 3, 10)

        refused = runner.invoke(cli, ["fire", str(case.id), "finish", "--field", "result=完成", "--as", "alice",
                                      "--database-url", url])
        assert refused.exit_code == 2
        assert "allowed: assign, note" in refused.output and "可执行：assign、note" in refused.output

        bad = runner.invoke(cli, ["fire", case.number, "note", "--field", "colour=red", "--as", "alice",
                                  "--database-url", url])
        assert bad.exit_code == 2 and "has no field colour" in bad.output

        unseen = runner.invoke(cli, ["fire", case.number, "note", "--field", "text=看看", "--as", "zhao",
                                     "--database-url", url])
        assert unseen.exit_code == 2 and "may not see it" in unseen.output
        nobody = runner.invoke(cli, ["fire", case.number, "note", "--as", "ghost", "--database-url", url])
        assert nobody.exit_code == 2 and "no active account 'ghost'" in nobody.output
        assert tx.load(Cases(db), case.id).version == 2  # nothing refused was written
    finally:
        db.dispose()
