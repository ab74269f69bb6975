"""The document worker: issue what events queued, after they committed; record and retry failures.

An event writes one outbox row per document in its own transaction (engine/cases.py); this worker
takes them one at a time. A short transaction claims an item (FOR UPDATE SKIP LOCKED on
PostgreSQL, so several workers share the queue) and leases it; the document is then rendered
outside any write transaction and numbered and archived in a second short one
(documents.issuing.issue_outside_the_lock) that also marks the item done, so a render never holds
SQLite's writer lock or an issuer's counter while events wait. A failure takes no number; it is recorded on the item, which
is retried with a growing delay until its budget is spent, then stays listed as failed, never
dropped. A worker that dies mid-item leaves it leased; it becomes claimable again when the lease
ends, and issuing it again finds the archived copy if there is one.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from db.repositories import outbox
from db.session import Database
from documents.issuing import issue_outside_the_lock
from documents.render import TooLarge
from engine.clock import Clock

log = logging.getLogger(__name__)

TOPIC = "document"
MAX_ATTEMPTS = 5
BACKOFF = dt.timedelta(minutes=2)  # the n-th retry waits n x BACKOFF
LEASE = dt.timedelta(minutes=10)  # far longer than any render


@dataclass(frozen=True)
class Outcome:
    """What one run did: (item id, document id) issued, (item id, error) failed."""

    issued: tuple[tuple[int, int], ...]
    failed: tuple[tuple[int, str], ...]


def process_pending(db: Database, clock: Clock, limit: int = 20, *, max_attempts: int = MAX_ATTEMPTS,
                    backoff: dt.timedelta = BACKOFF) -> Outcome:
    """Issue up to `limit` queued documents that are due; safe to run in several workers at once."""
    issued: list[tuple[int, int]] = []
    failed: list[tuple[int, str]] = []
    for _ in range(limit):
        with db.write() as conn:
            now = clock.now()
            claimed = outbox.claim(conn, TOPIC, now, limit=1)
            if not claimed:
                break
            item = claimed[0]
            outbox.lease(conn, item.id, now + LEASE)
        try:
            document = issue_outside_the_lock(
                db, case_id=item.case_id, history_seq=item.history_seq, kind=item.payload["kind"], now=now,
                then=lambda conn, item_id=item.id, at=now: outbox.complete(conn, item_id, at))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("document %s for case %s row %s failed (attempt %d): %s", item.payload.get("kind"),
                        item.case_id, item.history_seq, item.attempts + 1, error)
            # A document past the render limits will be as large next time: failed at once, not retried.
            budget = item.attempts + 1 if isinstance(exc, TooLarge) else max_attempts
            with db.write() as conn:
                outbox.fail(conn, item.id, now, error, max_attempts=budget, backoff=backoff)
            failed.append((item.id, error))
        else:
            issued.append((item.id, document.id))
    return Outcome(tuple(issued), tuple(failed))
