"""/ready says whether the background keeps up; /metrics says how far behind it is, in Prometheus text."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from tests.ops import rows


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_ready_warns_when_no_background_has_ever_run_and_probes_a_write(client, db):
    r = client.get("/ready")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["writes"] == "ok" and body["background"] == {} and body["problems"] == []
    assert any("no background worker has ever run" in w for w in body["warnings"])
    from db.repositories.time import get_setting

    with db.read() as conn:
        assert "at" in get_setting(conn, "ready_probe")  # the probe's write committed


def test_ready_is_503_when_a_tasks_newest_heartbeat_is_stale(client, db, clock, settings):
    now = clock.now()
    rows.heartbeat(db, "clock", now - timedelta(seconds=5))
    rows.heartbeat(db, "documents", now - timedelta(seconds=5), pid=1)
    rows.heartbeat(db, "documents", now - timedelta(hours=2), pid=2)  # a process gone; another beats
    r = client.get("/ready")
    assert r.status_code == 200, r.text
    assert set(r.json()["background"]) == {"clock", "documents"}
    assert not any("no background" in w for w in r.json()["warnings"])
    rows.heartbeat(db, "notices", now - timedelta(seconds=settings.heartbeat_stale_seconds + 60))
    r = client.get("/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "error" and body["writes"] == "ok" and body["migrations"] == "head"
    assert len(body["problems"]) == 1 and "'notices'" in body["problems"][0]
    assert body["background"]["notices"] > settings.heartbeat_stale_seconds


def test_metrics_read_the_backlog_at_scrape_time(client, api, db, clock):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    other = api.create("gy_sthjj", "另一件")
    now = clock.now()
    rows.heartbeat(db, "clock", now - timedelta(seconds=30))
    rows.timer(db, case["id"], now - timedelta(minutes=10))
    rows.timer(db, other["id"], now - timedelta(minutes=2))
    rows.timer(db, other["id"], now + timedelta(days=1))  # not due yet
    rows.timer(db, other["id"], now - timedelta(days=9), status="fired")  # done long ago
    rows.outbox(db, "document", case["id"], "failed", now, {"kind": "referral_letter"}, error="render failed")
    rows.outbox(db, "notice", case["id"], "pending", now, {"kind": "email", "title": "新移送"})
    rows.outbox(db, "notice", case["id"], "pending", now, {"kind": "wecom", "title": "新移送"})
    rows.outbox(db, "notice", case["id"], "done", now, {"kind": "email", "title": "已送达"})
    rows.failure(db, "cadence:two_lakes:monthly", "clock", now)
    rows.failure(db, "cadence:two_lakes:quarterly", "clock", now)
    rows.failure(db, "notice:9", "notices", now)
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    got = samples(r.text)
    assert got[("gongzhi_database_up", ())] == 1
    assert 30 <= got[("gongzhi_worker_heartbeat_age_seconds", (("task", "clock"),))] < 60
    assert 600 <= got[("gongzhi_timer_oldest_due_age_seconds", ())] < 660
    # referral (the event queued its letter) adds a pending document of its own
    assert got[("gongzhi_documents", (("status", "failed"),))] == 1
    assert got[("gongzhi_notices", (("status", "pending"),))] == 2
    assert got[("gongzhi_notices", (("status", "failed"),))] == 0
    assert got[("gongzhi_job_failures", (("task", "clock"),))] == 2
    assert got[("gongzhi_job_failures", (("task", "notices"),))] == 1
    assert got[("gongzhi_events_last_minute", ())] == 3  # create + refer, create
    created = (("method", "POST"), ("route", "/cases"), ("status", "201"))
    assert got[("gongzhi_http_request_duration_seconds_count", created)] >= 2
    assert got[("gongzhi_http_request_duration_seconds_bucket", (("le", "+Inf"), *created))] >= 2
    clock.advance(timedelta(minutes=5))
    later = samples(client.get("/metrics").text)
    assert later[("gongzhi_events_last_minute", ())] == 0
    assert later[("gongzhi_timer_oldest_due_age_seconds", ())] >= 900


def test_metrics_need_no_credentials_and_say_when_the_database_is_down(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from db.session import Database

    (tmp_path / "db.sqlite3").mkdir()  # a directory where the file should be: SQLite cannot open it
    r = TestClient(create_app(db=Database(f"sqlite:///{tmp_path}/db.sqlite3"))).get("/metrics")
    assert r.status_code == 200
    assert samples(r.text)[("gongzhi_database_up", ())] == 0
