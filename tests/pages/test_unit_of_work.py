"""One request, one unit of work (issue 16): a page form or an API call reads what it judges and writes
what it does in one transaction, committed once — or rolled back whole. Counted on the engine's own
transaction events, on both databases; and no service has an `_in` twin that joins a caller's transaction
beside one that owns its own."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from contextlib import contextmanager

from sqlalchemy import event

from tests.pages.test_pages import sign_in


@contextmanager
def transactions(db):
    """How each transaction run meanwhile ended, in order: "commit" (a write) or "rollback" (a read, or a
    write refused). Database.read always rolls back, so every commit is a write transaction."""
    seen: list[str] = []

    def committed(_conn):
        seen.append("commit")

    def rolled_back(_conn):
        seen.append("rollback")

    event.listen(db.engine, "commit", committed)
    event.listen(db.engine, "rollback", rolled_back)
    try:
        yield seen
    finally:
        event.remove(db.engine, "commit", committed)
        event.remove(db.engine, "rollback", rolled_back)


# A page first reads its session: one read, then the request's one unit of work.
SIGNED_IN = ["rollback"]
# The API reads a token once and then keeps it a while: the look-up may be there or not.
ONE_WRITE = (["commit"], ["rollback", "commit"])
ONE_WRITE_REFUSED = (["rollback"], ["rollback", "rollback"])


def test_a_page_form_reads_and_writes_in_one_transaction(client, db):
    csrf = sign_in(client, "ga_sthjj")
    with transactions(db) as seen:
        r = client.post("/new/referral", data={"csrf_token": csrf, "title": "马场河上游垃圾", "problem": "沿岸垃圾",
                                               "cross_city": "1"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert seen == [*SIGNED_IN, "commit"], seen
    case_id = int(r.headers["location"].split("/")[2].split("?")[0])
    version = re.search(r'name="version" value="(\d+)"', client.get(f"/case/{case_id}").text).group(1)
    with transactions(db) as seen:
        r = client.post(f"/case/{case_id}/events/report_to_office",
                        data={"csrf_token": csrf, "version": version, "reason": "跨市问题"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert seen == [*SIGNED_IN, "commit"], seen
    # A stale form is refused in that same one transaction, and nothing of it is committed; the page that
    # says so is read afterwards.
    with transactions(db) as seen:
        r = client.post(f"/case/{case_id}/events/report_to_office",
                        data={"csrf_token": csrf, "version": version, "reason": "再报一次"})
    assert r.status_code == 422 and "未能办理" in r.text, r.text
    assert seen[:2] == [*SIGNED_IN, "rollback"] and "commit" not in seen


def test_an_api_event_and_a_new_case_commit_once(api, login, db):
    for who in ("gy_sthjj", "office"):
        login(who)  # signed in beforehand: signing in is a write of its own
    with transactions(db) as seen:
        case = api.create("gy_sthjj", "红枫湖沿岸排污口")
    assert seen in ONE_WRITE, seen
    with transactions(db) as seen:
        api.ok("gy_sthjj", case["id"], "report_to_office", {"reason": "跨市"})
    assert seen in ONE_WRITE, seen
    with transactions(db) as seen:
        r = api.fire("office", case["id"], "coordinate_designate", {"receiver": "gy_qz_gov", "reason": "属地"},
                     headers={"Idempotency-Key": "unit-of-work-1", "If-Match": '"2"'})
    assert r.status_code == 200, r.text
    assert seen in ONE_WRITE, seen  # the key is claimed and its reply stored in the event's transaction
    with transactions(db) as seen:
        r = api.fire("office", case["id"], "coordinate_designate", {"receiver": "gy_qz_gov", "reason": "属地"},
                     headers={"If-Match": '"2"'})
    assert r.status_code == 409, r.text
    assert seen in ONE_WRITE_REFUSED, seen  # refused: the one write transaction rolled back whole


def _modules(package: str):
    root = importlib.import_module(package)
    yield root
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        if ".migrations" not in info.name:  # Alembic's scripts run only under Alembic
            yield importlib.import_module(info.name)


def test_no_service_has_a_twin_that_joins_the_callers_transaction():
    """A method `x_in(conn, ...)` beside `x(...)` was how a service both owned and joined transactions."""
    twins = []
    for package in ("engine", "api", "documents", "db"):
        for module in _modules(package):
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ != module.__name__:
                    continue
                names = set(vars(cls))
                twins += [f"{module.__name__}.{cls.__name__}.{n}" for n in names
                          if n.endswith("_in") and n.removesuffix("_in") in names]
            functions = {n for n, f in inspect.getmembers(module, inspect.isfunction)
                         if f.__module__ == module.__name__}
            twins += [f"{module.__name__}.{n}" for n in functions if n.endswith("_in") and n[:-3] in functions]
    assert twins == []
