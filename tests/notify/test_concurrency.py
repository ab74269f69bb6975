"""Two workers share one queue: 1,000 notices, each sent exactly once (counted by the receiver)."""

from __future__ import annotations

import threading
from collections import Counter

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
