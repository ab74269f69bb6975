"""Two workers share one queue: 1,000 notices, each sent exactly once (counted by the receiver)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from api.notify.delivery import deliver_pending
from db.models import Delivery, OutboxItem
from tests.notify.conftest import add_channel, make_settings, queue

N = 1000


def test_two_workers_send_each_of_a_thousand_notices_exactly_once(db, receiver, now_clock, calendar):
    settings = make_settings(notify_daily_cap=0)
    channels = [add_channel(db, "webhook", receiver.url(f"/webhook/c{i}")) for i in range(4)]
    ids = []
    for i, cid in enumerate(channels):
        ids += queue(db, cid, now_clock.now(), N // 4, title=f"通知{i}")
    assert len(ids) == N
    results: list = []
    errors: list = []

    def work() -> None:
        try:
            results.append(deliver_pending(db, now_clock, settings, calendar, limit=N))
        except Exception as exc:  # surfaced below: a worker that crashed must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors and len(results) == 2
    assert sorted(i for r in results for i in r.sent) == sorted(ids)
    assert all(r.sent for r in results), "both workers took a share"
    assert len(receiver.deliveries) == N and set(receiver.deliveries.values()) == {1}
    assert receiver.deliveries == Counter({f"notice-{i}": 1 for i in ids})
    d, o = Delivery.__table__, OutboxItem.__table__
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(d).where(d.c.outcome == "sent")).scalar_one() == N
        assert conn.execute(select(func.count(func.distinct(d.c.outbox_id)))).scalar_one() == N
        assert conn.execute(select(o.c.status, func.count()).where(o.c.topic == "notice")
                            .group_by(o.c.status)).all() == [("done", N)]


WORKER = """
import json, sys
from api.notify.delivery import deliver_pending
from db.session import Database
from engine.calendar import default_calendar
from db.settings import Settings
from engine.clock import FixedClock

from datetime import datetime
settings = Settings(environment="test", notify_daily_cap=0, notify_http_timeout=1.0)
clock = FixedClock(datetime.fromisoformat(sys.argv[2]))
sys.stdin.readline()  # both processes start sending together
out = deliver_pending(Database(sys.argv[1]), clock, settings, default_calendar(), limit=10_000)
print(json.dumps(list(out.sent)))
"""


@pytest.mark.postgres_only
def test_two_worker_processes_on_postgresql_share_the_queue(backend, db, receiver, now_clock):
    import json
    import subprocess
    import sys
    from pathlib import Path

    cid = add_channel(db, "webhook", receiver.url("/webhook/procs"))
    ids = queue(db, cid, now_clock.now(), 600)
    url = db.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, now_clock.now().isoformat()], cwd=root, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    shares = [json.loads(out) for out, _ in outputs]
    assert sorted(shares[0] + shares[1]) == sorted(ids) and all(shares)
    assert len(receiver.deliveries) == 600 and set(receiver.deliveries.values()) == {1}
