"""The delivery worker: send the notices events queued, after they committed; record every attempt.

An event writes its in-product notices and one outbox row per (notice, channel) in its own transaction
(engine/notices.py); people see the in-product notice at once. This worker carries the outbox rows of
topic "notice" to e-mail and robots, one at a time, the way the document worker does
(documents/outbox.py): a short transaction claims a due row (FOR UPDATE SKIP LOCKED on PostgreSQL, so
several workers share the queue) and leases it far longer than a send takes; the send happens outside
any write transaction; a second short transaction marks the row done. So when no process dies each row
is sent exactly once; a worker that dies mid-send leaves its row leased, it is sent again when the lease
ends, and the stable Message-ID / X-Gongzhi-Delivery let the receiver recognise the repeat.

Before a send the claiming transaction may instead defer the row (not an attempt):
  - quiet hours: outside working hours of a working day (Beijing time, the engine's WorkCalendar), a row
    waits for the next working start;
  - the daily cap: a channel that has had its notify_daily_cap notices this Beijing day waits for the
    next morning. Two workers may both pass the count at once, so the cap can be exceeded by at most
    one notice per extra worker; it is a courtesy to the recipient, not an accounting limit.
A failed send is retried with a doubling backoff until notify_max_attempts, then given up: the row stays,
status failed. A channel that was disabled or removed meanwhile is given up at once. Every send,
failure, deferral and give-up is one deliveries row.

Rows are claimed one at a time, so a worker told to stop (SIGTERM) between items holds nothing it has
not sent: `stop` is asked before each claim.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from api.notify.channels import DeliveryError, OutgoingNotice, absolute_link, http_client, send
from db.repositories import channels as channels_repo
from db.repositories import deliveries as repo
from db.session import Database
from db.settings import Settings
from engine.calendar import WorkCalendar
from engine.clock import Clock
from engine.localtime import at_local, local_date, start_of_local_day, to_local

log = logging.getLogger(__name__)

# Far longer than a send: SMTP and HTTP timeouts are seconds (db/settings.py caps them at 2 minutes).


@dataclass(frozen=True)
class Outcome:
    """What one run did, by outbox row id."""

    sent: tuple[int, ...] = ()
    failed: tuple[tuple[int, str], ...] = ()  # tried again later
    gave_up: tuple[tuple[int, str], ...] = ()
    deferred: tuple[tuple[int, dt.datetime], ...] = ()

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.failed) + len(self.gave_up) + len(self.deferred)


# ---- when a channel may send


def _at(day: dt.date, when: dt.time) -> dt.datetime:
    return at_local(day, when)


def next_send_time(now: dt.datetime, calendar: WorkCalendar, hours: tuple[dt.time, dt.time]) -> dt.datetime:
    """`now` when it lies in working hours of a working day (Beijing time), else the next working start."""
    start, end = hours
    local = to_local(now)
    day, clock_time = local.date(), local.time().replace(tzinfo=None)
    if calendar.is_working_day(day):
        if start <= clock_time < end:
            return now
        if clock_time < start:
            return _at(day, start)
    return _at(calendar.next_working_day(day), start)


def next_morning(now: dt.datetime, calendar: WorkCalendar, settings: Settings) -> dt.datetime:
    """When a channel that reached its daily cap may send again: the next (working, with quiet hours on)
    day's start of work."""
    start, _ = settings.work_hours()
    day = local_date(now)
    if settings.notify_quiet_hours:
        return _at(calendar.next_working_day(day), start)
    return _at(day + dt.timedelta(days=1), start)


def _day_start(now: dt.datetime) -> dt.datetime:
    return start_of_local_day(local_date(now))


def _zh(when: dt.datetime) -> str:
    local = to_local(when)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def backoff(settings: Settings, attempts: int) -> dt.timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4, 8 … times notify_backoff_seconds."""
    return dt.timedelta(seconds=settings.notify_backoff_seconds * 2 ** (attempts - 1))


# ---- one row


@dataclass(frozen=True)
class _Job:
    item_id: int
    attempts: int
    channel_id: int | None
    kind: str
    target: str
    secret: str | None
    notice: OutgoingNotice


def _notice_of(item: Any, settings: Settings) -> OutgoingNotice:
    p = item.payload
    return OutgoingNotice(outbox_id=item.id, title=str(p.get("title") or "共治通知"), body=str(p.get("body") or ""),
                          link=absolute_link(settings, str(p.get("link") or "")),
                          case_number=str(p.get("case_number") or ""), notice_id=p.get("notice_id"),
                          case_id=item.case_id)


def _record(conn, item: Any, channel_id: int | None, at: dt.datetime, outcome: str, detail: str) -> None:
    notice_id = item.payload.get("notice_id") if isinstance(item.payload, dict) else None
    repo.log(conn, outbox_id=item.id, notice_id=notice_id if isinstance(notice_id, int) else None, case_id=item.case_id,
             channel_id=channel_id, at=at, outcome=outcome, detail=detail)


def _give_up(conn, item: Any, channel_id: int | None, now: dt.datetime, detail: str) -> tuple[None, tuple[str, str]]:
    repo.give_up(conn, item.id, detail)
    _record(conn, item, channel_id, now, "gave_up", detail)
    return None, ("gave_up", detail)


def _defer(conn, item: Any, channel_id: int | None, now: dt.datetime, when: dt.datetime, detail: str
           ) -> tuple[None, tuple[str, dt.datetime]]:
    repo.defer(conn, item.id, when)
    _record(conn, item, channel_id, now, "deferred", detail)
    return None, ("deferred", when)


def _prepare(conn, item: Any, now: dt.datetime, settings: Settings, calendar: WorkCalendar
             ) -> tuple[_Job | None, tuple[str, Any] | None]:
    """In the claiming transaction: (a job to send, None), or (None, what was decided instead)."""
    payload = item.payload if isinstance(item.payload, dict) else {}
    channel_id = payload.get("channel_id")
    if channel_id is not None and not isinstance(channel_id, int):
        # A malformed row must not stop the queue (it would be claimed again every round).
        return _give_up(conn, item, None, now, f"通知的渠道编号无效（{str(channel_id)[:40]}），无法发送")
    if channel_id is not None:
        channel = channels_repo.get(conn, channel_id)
        if channel is None:
            return _give_up(conn, item, None, now, "渠道已删除，不再发送")
        if not channel.enabled:
            return _give_up(conn, item, channel.id, now, "渠道已停用，不再发送")
        # The channel's current address: a corrected target also serves the rows already queued.
        kind, target, secret = channel.kind, channel.target, channel.secret
    else:
        kind, target, secret = payload.get("kind"), payload.get("target"), None
        if not kind or not target:
            return _give_up(conn, item, None, now, "通知缺少渠道信息，无法发送")
    if settings.notify_quiet_hours:
        when = next_send_time(now, calendar, settings.work_hours())
        if when > now:
            return _defer(conn, item, channel_id, now, when, f"非工作时间，顺延至{_zh(when)}发送")
    cap = settings.notify_daily_cap
    if cap and channel_id is not None and repo.sent_since(conn, channel_id, _day_start(now)) >= cap:
        when = next_morning(now, calendar, settings)
        return _defer(conn, item, channel_id, now, when, f"今日已发送{cap}条，达到每日上限，顺延至{_zh(when)}发送")
    repo.lease(conn, item.id, now + dt.timedelta(seconds=settings.notify_lease_seconds))
    return _Job(item.id, item.attempts, channel_id, kind, target, secret, _notice_of(item, settings)), None


def deliver_pending(db: Database, clock: Clock, settings: Settings, calendar: WorkCalendar, *, limit: int = 50,
                    stop: Callable[[], bool] | None = None, client: httpx.Client | None = None) -> Outcome:
    """Handle up to `limit` due notice rows (send, defer or give up each); safe in several workers at once.
    `stop()` is asked before each row: true ends the run with nothing claimed and unsent."""
    sent: list[int] = []
    failed: list[tuple[int, str]] = []
    gave_up: list[tuple[int, str]] = []
    deferred: list[tuple[int, dt.datetime]] = []
    own_client = client is None
    client = client or http_client(settings)
    try:
        for _ in range(limit):
            if stop is not None and stop():
                break
            with db.write() as conn:
                now = clock.now()
                claimed = repo.claim(conn, now, limit=1)
                if not claimed:
                    break
                item = claimed[0]
                job, decided = _prepare(conn, item, now, settings, calendar)
            if job is None:
                kind, what = decided
                (deferred if kind == "deferred" else gave_up).append((item.id, what))
                continue
            try:
                detail = send(settings, client, kind=job.kind, target=job.target, secret=job.secret,
                              notice=job.notice, now=now)
            except DeliveryError as exc:
                outcome, message = _failed(db, clock, settings, item, job, exc)
                (failed if outcome == "failed" else gave_up).append((item.id, message))
                continue
            except Exception as exc:  # a bug in a sender must not stop the queue: give the row up, say why
                log.exception("notice %s: sender crashed", item.id)
                outcome, message = _failed(db, clock, settings, item, job,
                                           DeliveryError(f"内部错误：{type(exc).__name__}", retry=False))
                gave_up.append((item.id, message))
                continue
            with db.write() as conn:
                at = clock.now()
                repo.complete(conn, item.id, at)
                _record(conn, item, job.channel_id, at, "sent", detail)
            sent.append(item.id)
    finally:
        if own_client:
            client.close()
    return Outcome(tuple(sent), tuple(failed), tuple(gave_up), tuple(deferred))


def _failed(db: Database, clock: Clock, settings: Settings, item: Any, job: _Job, exc: DeliveryError
            ) -> tuple[str, str]:
    attempt = job.attempts + 1
    with db.write() as conn:
        at = clock.now()
        if exc.retry and attempt < settings.notify_max_attempts:
            wait = backoff(settings, attempt)
            repo.retry_at(conn, item.id, exc.detail, at + wait)
            detail = f"{exc.detail}；第{attempt}次尝试失败，{_zh(at + wait)}重试"
            outcome = "failed"
        else:
            repo.give_up(conn, item.id, exc.detail)
            why = f"已尝试{attempt}次，放弃发送" if exc.retry else "重试无济于事，放弃发送"
            detail = f"{exc.detail}；{why}"
            outcome = "gave_up"
        _record(conn, item, job.channel_id, at, outcome, detail)
    log.warning("notice %s over %s (channel %s) attempt %d: %s", item.id, job.kind, job.channel_id, attempt,
                detail)
    return outcome, detail


# ---- a test message, now


@dataclass(frozen=True)
class TestResult:
    ok: bool
    detail: str


def send_test(db: Database, clock: Clock, settings: Settings, channel_id: int, *,
              client: httpx.Client | None = None) -> TestResult | None:
    """Send a test message over one channel now (quiet hours and the cap do not apply) and record it as a
    delivery; None when there is no such channel."""
    with db.read() as conn:
        channel = channels_repo.get(conn, channel_id)
    if channel is None:
        return None
    now = clock.now()
    title = "通知渠道测试"
    body = f"这是一条测试消息：共治系统已能通过此渠道（{_zh(now)}）向您发送通知，无需回复。"
    payload = {"channel_id": channel.id, "kind": channel.kind, "title": title, "body": body, "link": "/"}
    with db.write() as conn:
        outbox_id = repo.record_test(conn, channel_id=channel.id, payload=payload, now=now)
    notice = OutgoingNotice(outbox_id=outbox_id, title=title, body=body, link=absolute_link(settings, "/"),
                            test=True)
    own_client = client is None
    client = client or http_client(settings)
    try:
        detail = send(settings, client, kind=channel.kind, target=channel.target, secret=channel.secret,
                      notice=notice, now=now)
        result = TestResult(True, detail)
    except DeliveryError as exc:
        result = TestResult(False, exc.detail)
    finally:
        if own_client:
            client.close()
    with db.write() as conn:
        repo.log(conn, outbox_id=outbox_id, notice_id=None, case_id=None, channel_id=channel.id, at=clock.now(),
                 outcome="sent" if result.ok else "failed", detail=f"测试消息：{result.detail}")
    return result
