"""Eight writers racing on one case: one winner per version, no lost or duplicated history."""

from __future__ import annotations

import threading

from sqlalchemy import select

from db.models import CaseHistory, Deadline
from engine.actors import Actor
from engine.errors import StaleVersion
from tests import tx
from tests.conftest import OFFICE, A


def test_eight_threads_one_winner_per_version(cases, db):
    case = tx.start(cases, task_force="toy", workflow="ticket", actor=A, title="并发测试", payload={"summary": "s"})
    rounds, threads_n = 25, 8
    wins: list[tuple[int, int]] = []  # (version won, thread)
    stale = [0] * threads_n
    barrier = threading.Barrier(threads_n)
    lock = threading.Lock()

    def worker(i: int) -> None:
        actor = OFFICE if i % 2 else A
        for _ in range(rounds):
            barrier.wait()
            seen = tx.load(cases, case.id)  # every thread reads the same version, then all write
            barrier.wait()
            try:
                moved = tx.fire(cases, seen, "note", actor, {"text": f"线程{i}"})
            except StaleVersion as exc:
                assert exc.current_version > seen.version
                stale[i] += 1
            else:
                with lock:
                    wins.append((moved.version, i))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    versions = sorted(v for v, _ in wins)
    # Every round has exactly one winner; everyone else was told the case moved.
    assert versions == list(range(2, rounds + 2))
    assert sum(stale) == rounds * (threads_n - 1)
    with db.read() as conn:
        rows = conn.execute(select(CaseHistory.seq, CaseHistory.payload).where(CaseHistory.case_id == case.id)
                            .order_by(CaseHistory.seq)).all()
    assert [r.seq for r in rows] == list(range(1, rounds + 2))
    # The history row of each version is the winner's own write.
    by_version = {v: f"线程{i}" for v, i in wins}
    assert all(r.payload["text"] == by_version[r.seq] for r in rows[1:])
    assert tx.load(cases, case.id).version == rounds + 1
    assert tx.verify(cases) == []


def test_racing_an_event_that_starts_deadlines_loses_on_the_version_not_on_a_key(cases, db):
    """`refer` writes deadline and timer rows before it moves the case: the losers must still be told
    the case moved (StaleVersion), not fail on the deadline's key, and leave none of their rows."""
    referrer = Actor.of("ref", "gy_sthjj", "member")
    threads_n, rounds = 8, 6
    for r in range(rounds):
        case = tx.start(cases, task_force="two_lakes", workflow="referral", actor=referrer, title=f"并发移送{r}",
                        payload={"problem": "沿岸堆放生活垃圾"})
        barrier = threading.Barrier(threads_n)
        outcomes: list[str] = []
        lock = threading.Lock()

        def worker(i: int, case=case, barrier=barrier, outcomes=outcomes, lock=lock) -> None:
            barrier.wait()
            try:
                tx.fire(cases, case, "refer", referrer, {"receiver": "gy_qz_gov", "reason": f"线程{i}"})
                got = "won"
            except StaleVersion:
                got = "stale"
            with lock:
                outcomes.append(got)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["stale"] * (threads_n - 1) + ["won"], outcomes
        with db.read() as conn:
            names = conn.execute(select(Deadline.name).where(Deadline.case_id == case.id)).scalars().all()
        assert sorted(names) == ["acceptance", "objection_window"]
        assert tx.load(cases, case.id).version == 2
    assert tx.verify(cases) == []
