"""Prometheus metrics: request latencies counted in-process, the background's state read from the
database at scrape time (so every API process reports the same backlog, whoever did the work)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from db.repositories import operations as repo
from db.session import Database

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Under several server processes (PostgreSQL), PROMETHEUS_MULTIPROC_DIR makes each process write its
# samples there and a scrape of any one of them sums them all.
REQUESTS = CollectorRegistry(auto_describe=True)
LATENCY = Histogram(
    "gongzhi_http_request_duration_seconds", "HTTP request latency, by method, route template and status",
    ["method", "route", "status"], registry=None if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else REQUESTS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def observe(method: str, route: str, status: int, seconds: float) -> None:
    LATENCY.labels(method, route, str(status)).observe(seconds)


class BackgroundCollector(Collector):
    """One read transaction per scrape; a database that does not answer reads gongzhi_database_up 0."""

    def __init__(self, db: Database, now: datetime) -> None:
        self.db, self.now = db, now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("gongzhi_database_up", "1 when the database answered this scrape's reads")
        try:
            with self.db.read() as conn:
                beats = repo.newest_beats(conn)
                timer = repo.oldest_due_timer(conn, self.now)
                backlog = repo.outbox_counts(conn)
                failures = repo.job_failure_counts(conn)
                events = repo.events_since(conn, self.now - timedelta(minutes=1))
        except Exception:  # a scrape reports the outage instead of failing
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        age = GaugeMetricFamily("gongzhi_worker_heartbeat_age_seconds",
                                "seconds since the newest heartbeat of any worker of the task", labels=["task"])
        for task, at in sorted(beats.items()):
            age.add_metric([task], max(0.0, (self.now - at).total_seconds()))
        yield age
        due = GaugeMetricFamily("gongzhi_timer_oldest_due_age_seconds",
                                "seconds since the oldest pending timer fell due (0: none is overdue)")
        due.add_metric([], max(0.0, (self.now - timer.due_at).total_seconds()) if timer else 0.0)
        yield due
        for topic, name, what in (("document", "gongzhi_documents", "documents to issue"),
                                  ("notice", "gongzhi_notices", "notices to deliver")):
            family = GaugeMetricFamily(name, f"{what} (outbox topic {topic}), pending or failed", labels=["status"])
            for status in ("pending", "failed"):
                family.add_metric([status], backlog.get((topic, status), 0))
            yield family
        failed = GaugeMetricFamily("gongzhi_job_failures", "background work failing and kept for retry, by task",
                                   labels=["task"])
        for task, n in sorted(failures.items()):
            failed.add_metric([task], n)
        yield failed
        per_minute = GaugeMetricFamily("gongzhi_events_last_minute",
                                       "case history rows (events, creations, migrations) written in the last minute")
        per_minute.add_metric([], events)
        yield per_minute


def exposition(db: Database, now: datetime) -> bytes:
    """The whole scrape: this process's request latencies, then the background's state."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        requests = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests)
    else:
        requests = REQUESTS
    background = CollectorRegistry(auto_describe=False)
    background.register(BackgroundCollector(db, now))
    return generate_latest(requests) + generate_latest(background)


def latency_summary() -> tuple[int, float | None, float | None]:
    """(requests, p50, p95 in seconds) of this process's requests since it started, read off the
    histogram's buckets (an upper bound: the bucket a quantile falls in)."""
    counts: dict[float, float] = {}
    for metric in REQUESTS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                counts[bound] = counts.get(bound, 0.0) + sample.value
    if not counts:
        return 0, None, None
    bounds = sorted(counts)
    total = counts[bounds[-1]]
    if not total:
        return 0, None, None

    def quantile(q: float) -> float:
        return next(b for b in bounds if counts[b] >= q * total)

    return int(total), quantile(0.5), quantile(0.95)
