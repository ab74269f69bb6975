"""`gongzhi simulate`: a year of the two-lakes mechanism through the engine's API, then `gongzhi verify`."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli import app as cli
from db.models import Case, CaseHistory, CaseLink, Definition, OutboxItem
from db.session import Database
from documents.contexts import Issue, build
from documents.records import load
from engine.bootstrap import init_database
from engine.cases import Cases
from engine.clock import FixedClock
from simulation.driver import run
from tests.conftest import BACKENDS
from workflows import ROOT


def _events(db: Database, workflow: str) -> set[str]:
    with db.read() as conn:
        return set(conn.execute(select(CaseHistory.event).join(Case, Case.id == CaseHistory.case_id)
                                .join(Definition, Definition.id == Case.definition_id)
                                .where(Definition.name == workflow)).scalars())


def test_a_simulated_year_runs_the_whole_mechanism(fresh_url):
    url = fresh_url("sqlite")
    runner = CliRunner()
    done = runner.invoke(cli, ["simulate", "--year", "2026", "--seed", "1", "--database-url", url])
    assert done.exit_code == 0, done.output
    # The run time is printed (its target, < 30 s, is a benchmark figure, not a timed test).
    assert re.search(r"seed 1: ([\d.]+) s", done.output)
    assert "Cases by workflow and final state" in done.output and "Late units" in done.output
    assert "verify: OK" in done.output
    db = Database(url)
    try:
        # Meetings held with minutes, inspections with lists and 回头看, referrals, enforcement, reports.
        assert {"hold", "issue_minutes", "close"} <= _events(db, "meeting")
        assert {"conduct", "issue_list", "lookback"} <= _events(db, "joint_inspection")
        assert {"refer", "accept", "verify_pass", "escalate_to_meeting", "meeting_decides"} <= _events(db, "referral")
        assert {"organise", "conduct", "report_to_office"} <= _events(db, "enforcement_action")
        # Late units climbed the ladder to 约谈 and 移交; a procuratorial case went to court.
        assert {"yellow", "approve_red", "approve_circular", "approve_summons", "refer_to_procuratorate"} <= _events(
            db, "supervision")
        assert {"serve_recommendation", "reply_overdue", "file_suit", "court_accepts", "judgment"} <= _events(
            db, "pil_case")
        with db.read() as conn:
            kinds = set(conn.execute(select(CaseLink.kind)).scalars())
            # Every document the year's events queued can be built from what the cases recorded.
            issued = Counter()
            for case_id, seq, payload in conn.execute(select(OutboxItem.case_id, OutboxItem.history_seq,
                                                             OutboxItem.payload).where(OutboxItem.topic == "document")):
                build(payload["kind"], load(conn, case_id, seq), Issue("两湖专班办〔2026〕1号", date(2026, 12, 31)))
                issued[payload["kind"]] += 1
        assert {"agenda", "decision", "settles", "clue", "finding", "problem", "lookback", "supervision"} <= kinds
        assert set(issued) == {"meeting_notice", "minutes", "referral_letter", "rectification_plan",
                               "supervision_notice", "circular_notice", "summons_record", "procuratorial_followup"}
    finally:
        db.dispose()
    assert runner.invoke(cli, ["verify", "--database-url", url]).exit_code == 0
    again = runner.invoke(cli, ["simulate", "--year", "2026", "--database-url", url])
    assert again.exit_code == 2 and "already has" in again.output


def _quarter(url: str):
    db = Database(url)
    try:
        init_database(db, ROOT)
        clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
        report = run(Cases(db, clock), clock, task_force="two_lakes", year=2026, seed=7, root=ROOT,
                     until=date(2026, 3, 31))
        with db.read() as conn:
            total = conn.execute(select(func.count()).select_from(Case)).scalar_one()
    finally:
        db.dispose()
    return report, total


def test_the_same_seed_gives_the_same_quarter_on_both_databases(fresh_url):
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL not selected (GONGZHI_TEST_DATABASES)")
    lite, lite_total = _quarter(fresh_url("sqlite"))
    pg, pg_total = _quarter(fresh_url("postgresql"))
    assert lite.problems == [] and pg.problems == []
    assert lite_total == pg_total > 70
    assert lite.by_state == pg.by_state and lite.overdue == pg.overdue and lite.links == pg.links
    assert "2026 to 2026-03-31" in pg.render()
