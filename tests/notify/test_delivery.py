"""The delivery worker on both databases, against real receivers: sent once and recorded, retried with a
growing backoff then given up, the daily cap, quiet hours, and a disabled channel."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from api.notify.delivery import deliver_pending, next_send_time
from db.models import Delivery, OutboxItem
from db.repositories import channels as channels_repo
from db.repositories import deliveries as repo
from engine.clock import FixedClock
from tests import tx
from tests.conftest import A
from tests.notify.conftest import DING_SECRET, WORKING, add_channel, local, make_settings, queue


def outbox_rows(db, ids):
    t = OutboxItem.__table__
    with db.read() as conn:
        return {r.id: r for r in conn.execute(select(t).where(t.c.id.in_(ids)))}


def delivery_rows(db, outbox_id=None):
    t = Delivery.__table__
    stmt = select(t).order_by(t.c.id)
    if outbox_id is not None:
        stmt = stmt.where(t.c.outbox_id == outbox_id)
    with db.read() as conn:
        return conn.execute(stmt).all()


def test_each_kind_of_channel_is_sent_once_and_recorded(db, cases, smtp, receiver, now_clock, calendar):
    settings = make_settings(smtp)
    case = tx.start(cases, task_force="toy", workflow="ticket", actor=A, title="排污口问题",
                    payload={"summary": "河道旁发现疑似排污口"})
    channels = {
        "email": add_channel(db, "email", "liaison@example.gov.cn"),
        "wecom": add_channel(db, "wecom", receiver.url("/wecom/a", "key=k")),
        "dingtalk": add_channel(db, "dingtalk", receiver.url("/dingtalk/a", "access_token=t"), secret=DING_SECRET),
        "webhook": add_channel(db, "webhook", receiver.url("/webhook/a"), owner_kind="user", owner="gy_sthjj"),
    }
    ids = [queue(db, cid, now_clock.now(), kind=kind, case_id=case.id)[0] for kind, cid in channels.items()]

    outcome = deliver_pending(db, now_clock, settings, calendar)
    assert sorted(outcome.sent) == sorted(ids) and not (outcome.failed or outcome.gave_up or outcome.deferred)
    assert len(smtp.messages) == 1
    assert [len(receiver.of(p)) for p in ("/wecom/a", "/dingtalk/a", "/webhook/a")] == [1, 1, 1]
    assert receiver.deliveries == {f"notice-{ids[3]}": 1}
    assert {r.status for r in outbox_rows(db, ids).values()} == {"done"}

    again = deliver_pending(db, now_clock, settings, calendar)
    assert again.handled == 0 and len(smtp.messages) == 1 and len(receiver.requests) == 3

    with db.read() as conn:
        shown = repo.deliveries_of_case(conn, case.id)
    assert [(r.kind, r.outcome) for r in shown] == [(k, "sent") for k in channels]
    assert shown[0].target == "liaison@example.gov.cn" and "Message-ID" in shown[0].detail
    assert all(r.case_id == case.id for r in delivery_rows(db))


def test_a_failing_receiver_is_retried_with_growing_backoff_then_succeeds(db, receiver, now_clock, calendar):
    settings = make_settings(notify_backoff_seconds=60)
    cid = add_channel(db, "webhook", receiver.url("/webhook/flaky"))
    (item,) = queue(db, cid, now_clock.now())
    receiver.plan("/webhook/flaky", "500", "502")

    first = deliver_pending(db, now_clock, settings, calendar)
    assert [i for i, _ in first.failed] == [item]
    due_1 = outbox_rows(db, [item])[item].available_at
    assert due_1 - now_clock.now() == timedelta(minutes=1)
    assert deliver_pending(db, now_clock, settings, calendar).handled == 0  # not before its time

    now_clock.set(due_1)
    assert [i for i, _ in deliver_pending(db, now_clock, settings, calendar).failed] == [item]
    due_2 = outbox_rows(db, [item])[item].available_at
    assert due_2 - due_1 == timedelta(minutes=2)  # the wait doubles

    now_clock.set(due_2)
    assert deliver_pending(db, now_clock, settings, calendar).sent == (item,)
    assert len(receiver.of("/webhook/flaky")) == 3
    rows = delivery_rows(db, item)
    assert [r.outcome for r in rows] == ["failed", "failed", "sent"]
    assert "HTTP 500" in rows[0].detail and "重试" in rows[0].detail and rows[2].channel_id == cid
    assert outbox_rows(db, [item])[item].status == "done"


def test_a_receiver_that_keeps_failing_is_given_up_after_the_budget_and_kept(db, receiver, now_clock, calendar):
    settings = make_settings(notify_max_attempts=4, notify_backoff_seconds=30)
    cid = add_channel(db, "wecom", receiver.url("/wecom/down"))
    (item,) = queue(db, cid, now_clock.now())
    receiver.plan("/wecom/down", *["503"] * 10)
    for _ in range(10):
        deliver_pending(db, now_clock, settings, calendar)
        now_clock.advance(timedelta(minutes=10))
    assert len(receiver.of("/wecom/down")) == 4
    assert [r.outcome for r in delivery_rows(db, item)] == ["failed", "failed", "failed", "gave_up"]
    row = outbox_rows(db, [item])[item]
    assert row.status == "failed" and row.attempts == 4 and "503" in row.last_error


def test_a_bad_signature_is_given_up_at_once(db, receiver, now_clock, calendar):
    cid = add_channel(db, "dingtalk", receiver.url("/dingtalk/b", "access_token=t"), secret="SECnot-the-one")
    (item,) = queue(db, cid, now_clock.now())
    outcome = deliver_pending(db, now_clock, make_settings(), calendar)
    assert [i for i, _ in outcome.gave_up] == [item]
    (only,) = delivery_rows(db, item)
    assert only.outcome == "gave_up" and "310000" in only.detail
    now_clock.advance(timedelta(days=2))
    assert deliver_pending(db, now_clock, make_settings(), calendar).handled == 0
    assert outbox_rows(db, [item])[item].status == "failed"


def test_past_the_daily_cap_a_channel_waits_for_the_next_morning(db, receiver, now_clock, calendar):
    settings = make_settings(notify_daily_cap=2)
    cid = add_channel(db, "webhook", receiver.url("/webhook/cap"))
    other = add_channel(db, "webhook", receiver.url("/webhook/other"))
    ids = queue(db, cid, now_clock.now(), 3)
    (elsewhere,) = queue(db, other, now_clock.now())
    outcome = deliver_pending(db, now_clock, settings, calendar)
    assert sorted(outcome.sent) == sorted([*ids[:2], elsewhere])  # the cap is per channel
    assert [(i, when) for i, when in outcome.deferred] == [(ids[2], local(2026, 3, 3, 8, 30))]
    deferral = delivery_rows(db, ids[2])[-1]
    assert deferral.outcome == "deferred" and "每日上限" in deferral.detail and "2026年3月3日 08:30" in deferral.detail

    now_clock.set(local(2026, 3, 3, 8, 29))
    assert deliver_pending(db, now_clock, settings, calendar).handled == 0
    now_clock.set(local(2026, 3, 3, 8, 30))
    assert deliver_pending(db, now_clock, settings, calendar).sent == (ids[2],)
    assert len(receiver.of("/webhook/cap")) == 3


def test_quiet_hours_defer_to_the_next_working_start(db, receiver, calendar):
    settings = make_settings()
    cid = add_channel(db, "webhook", receiver.url("/webhook/quiet"))
    clock = FixedClock(local(2026, 3, 1, 11))  # a Sunday
    (on_sunday,) = queue(db, cid, clock.now())
    outcome = deliver_pending(db, clock, settings, calendar)
    assert outcome.deferred == ((on_sunday, local(2026, 3, 2, 8, 30)),)
    assert "非工作时间" in delivery_rows(db, on_sunday)[-1].detail
    clock.set(local(2026, 3, 2, 8, 29))
    assert deliver_pending(db, clock, settings, calendar).handled == 0 and receiver.requests == []
    clock.set(local(2026, 3, 2, 8, 30))
    assert deliver_pending(db, clock, settings, calendar).sent == (on_sunday,)

    clock.set(local(2026, 3, 3, 20))  # Tuesday 20:00
    (at_night,) = queue(db, cid, clock.now())
    assert deliver_pending(db, clock, settings, calendar).deferred == ((at_night, local(2026, 3, 4, 8, 30)),)
    assert len(receiver.of("/webhook/quiet")) == 1
    clock.set(local(2026, 3, 4, 8, 30))
    assert deliver_pending(db, clock, settings, calendar).sent == (at_night,)
    assert [r.outcome for r in delivery_rows(db, at_night)] == ["deferred", "sent"]
    # quiet hours off: sent at once, any hour
    clock.set(local(2026, 3, 4, 23))
    (late,) = queue(db, cid, clock.now())
    assert deliver_pending(db, clock, make_settings(notify_quiet_hours=False), calendar).sent == (late,)
    assert len(receiver.of("/webhook/quiet")) == 3


def test_the_next_working_start_follows_the_holiday_calendar(calendar):
    hours = make_settings().work_hours()
    # 2026: 1-7 October are 国庆节 days off; Saturday 10 October is a make-up working day (workflows/calendar)
    assert next_send_time(local(2026, 10, 1, 10), calendar, hours) == local(2026, 10, 8, 8, 30)
    assert next_send_time(local(2026, 10, 9, 19), calendar, hours) == local(2026, 10, 10, 8, 30)
    assert next_send_time(WORKING, calendar, hours) == WORKING
    assert next_send_time(local(2026, 3, 2, 18), calendar, hours) == local(2026, 3, 3, 8, 30)
    assert next_send_time(local(2026, 3, 2, 7), calendar, hours) == local(2026, 3, 2, 8, 30)


def test_a_disabled_or_removed_channel_is_given_up_and_recorded(db, receiver, now_clock, calendar):
    off = add_channel(db, "webhook", receiver.url("/webhook/off"))
    gone = add_channel(db, "webhook", receiver.url("/webhook/gone"))
    (a,) = queue(db, off, now_clock.now())
    (b,) = queue(db, gone, now_clock.now())
    with db.write() as conn:
        channels_repo.set_enabled(conn, off, False)
        channels_repo.remove(conn, gone)
    outcome = deliver_pending(db, now_clock, make_settings(), calendar)
    assert sorted(i for i, _ in outcome.gave_up) == sorted([a, b]) and receiver.requests == []
    assert "停用" in delivery_rows(db, a)[-1].detail and "删除" in delivery_rows(db, b)[-1].detail
    assert {r.status for r in outbox_rows(db, [a, b]).values()} == {"failed"}


def test_a_stop_request_ends_the_run_between_items_with_nothing_held(db, receiver, now_clock, calendar):
    cid = add_channel(db, "webhook", receiver.url("/webhook/stop"))
    ids = queue(db, cid, now_clock.now(), 5)
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 2  # SIGTERM arrives after two items

    assert len(deliver_pending(db, now_clock, make_settings(), calendar, stop=stop).sent) == 2
    rows = outbox_rows(db, ids)
    waiting = [i for i in ids if rows[i].status == "pending"]
    assert len(waiting) == 3 and all(rows[i].available_at <= now_clock.now() for i in waiting)
    # a row claimed and leased by a worker that then had to let go is claimable again at once
    with db.write() as conn:
        repo.lease(conn, waiting[0], now_clock.now() + timedelta(minutes=10))
        assert repo.claim(conn, now_clock.now(), limit=5)[0].id == waiting[1]
        assert repo.release(conn, [waiting[0]], now_clock.now()) == 1
    assert len(deliver_pending(db, now_clock, make_settings(), calendar).sent) == 3
    assert sum(receiver.deliveries.values()) == 5 and set(receiver.deliveries.values()) == {1}


def test_a_malformed_row_is_given_up_and_the_queue_goes_on(db, receiver, now_clock, calendar):
    cid = add_channel(db, "webhook", receiver.url("/webhook/after"))
    from db.repositories import outbox

    with db.write() as conn:
        outbox.enqueue(conn, [("notice", None, None, {"channel_id": "seven", "title": "x"}),
                              ("notice", None, None, {"title": "no channel at all"})], now_clock.now())
    (good,) = queue(db, cid, now_clock.now())
    outcome = deliver_pending(db, now_clock, make_settings(), calendar)
    assert outcome.sent == (good,) and len(outcome.gave_up) == 2
    assert {r.outcome for r in delivery_rows(db)} == {"gave_up", "sent"}
