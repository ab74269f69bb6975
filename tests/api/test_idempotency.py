"""A retried POST with the same Idempotency-Key acts once and replays the first reply."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select

from db.models import Case, CaseHistory


def transitions(db, case_id: int) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(CaseHistory).where(CaseHistory.case_id == case_id)).scalar()


def test_retrying_an_event_with_the_same_key_records_one_transition(api, db):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    api.ok("gy_qz_gov", case["id"], "accept")
    api.ok("gy_qz_gov", case["id"], "start_work")
    before = transitions(db, case["id"])
    key = {"Idempotency-Key": str(uuid.uuid4())}
    # `progress` loops on its state: without the key a retry would record a second report.
    first = api.fire("gy_qz_gov", case["id"], "progress", {"note": "已清运"}, headers=key)
    second = api.fire("gy_qz_gov", case["id"], "progress", {"note": "已清运"}, headers=key)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() and second.headers["etag"] == first.headers["etag"]
    assert second.headers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in first.headers
    assert transitions(db, case["id"]) == before + 1
    # Without the key, or with a new one, it acts again.
    assert api.fire("gy_qz_gov", case["id"], "progress", {"note": "已清运"},
                    headers={"Idempotency-Key": str(uuid.uuid4())}).status_code == 200
    assert transitions(db, case["id"]) == before + 2


def test_the_same_key_with_another_body_is_refused(api, db):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    key = {"Idempotency-Key": "retry-1"}
    assert api.fire("gy_qz_gov", case["id"], "accept", headers=key).status_code == 200
    r = api.fire("gy_qz_gov", case["id"], "object", {"reason": "x"}, headers=key)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    assert r.json()["details"]["field"] == "Idempotency-Key"
    # Keys belong to their account: another account may use the same string.
    other = api.create("gy_qz_gov", "另一件事")
    assert api.fire("gy_qz_gov", other["id"], "refer", {"receiver": "gy_sthjj", "reason": "r"},
                    headers=key).status_code == 422
    assert api.fire("gy_sthjj", other["id"], "accept", headers=key).status_code in (403, 404, 409)


def test_a_refused_request_leaves_the_key_free(api, db):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert api.fire("gy_qz_gov", case["id"], "start_work", headers=key).status_code == 409
    # Nothing was stored for the refusal; the same request may be retried once it can succeed.
    assert api.fire("gy_qz_gov", case["id"], "accept", headers=key).status_code == 200


def test_creating_a_case_twice_with_one_key_opens_one_case(client, login, db):
    key = {"Idempotency-Key": str(uuid.uuid4()), **login("gy_sthjj")}
    body = {"workflow": "referral", "title": "重复提交", "payload": {"problem": "p"}}
    first = client.post("/cases", headers=key, json=body)
    second = client.post("/cases", headers=key, json=body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"] and second.headers["location"] == first.headers["location"]
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(Case)).scalar() == 1


def test_concurrent_retries_with_one_key_act_once(app, api, db, login):
    from fastapi.testclient import TestClient

    case = api.referral("gy_sthjj", "gy_qz_gov")
    api.ok("gy_qz_gov", case["id"], "accept")
    api.ok("gy_qz_gov", case["id"], "start_work")
    before = transitions(db, case["id"])
    headers = {"Idempotency-Key": str(uuid.uuid4()), **login("gy_qz_gov")}
    barrier, results = threading.Barrier(6), []

    def send() -> None:
        with TestClient(app) as c:
            barrier.wait()
            r = c.post(f"/cases/{case['id']}/events", headers=headers, json={"event": "progress",
                                                                              "payload": {"note": "同时重试"}})
            results.append((r.status_code, r.json()["version"]))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and {s for s, _ in results} == {200}
    assert len({v for _, v in results}) == 1
    assert transitions(db, case["id"]) == before + 1
