"""我的待办 and 综合查询 run a fixed number of statements, however many cases the page shows: no query
per line (the ladder colour of each line, its links, its record are read for the page at once)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, func, select

from db.models import CaseLink
from engine.cases import Cases
from engine.timers import run_due
from tests.pages.test_pages import sign_in


@contextmanager
def counted(db):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _statements(client, db, path: str, **params) -> int:
    client.get(path, params=params)  # warm: sign-in look-ups, compiled machines
    with counted(db) as seen:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return len(seen)


def _referrals(api, db, clock, n: int) -> None:
    for i in range(n):
        api.referral("gy_sthjj", "gy_qz_gov", title=f"统计语句事项{i}")
    # Left unsigned past the 3 working days: the clock opens a supervision case linked to each, which
    # the line's colour reads.
    clock.advance(timedelta(days=6))
    run_due(Cases(db, clock))


def test_my_work_and_search_read_a_page_in_a_fixed_number_of_statements(client, api, db, clock):
    sign_in(client, "gy_qz_gov")
    client.get("/")  # a first sitting: both counted visits below are later ones, marking 新到 alike
    _referrals(api, db, clock, 3)
    few = {"/": _statements(client, db, "/"), "/search": _statements(client, db, "/search", q="统计语句")}
    _referrals(api, db, clock, 9)
    many = {"/": _statements(client, db, "/"), "/search": _statements(client, db, "/search", q="统计语句")}
    assert many == few, (few, many)
    page = client.get("/").text
    assert page.count("统计语句事项") >= 12  # every case is on the page that was counted
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(CaseLink)).scalar_one() >= 12  # and linked


def test_the_scorecards_page_counts_every_unit_in_a_fixed_number_of_statements(client, api, db, clock):
    sign_in(client, "office")
    api.referral("gy_sthjj", "gy_qz_gov", title="考核语句事项0")
    clock.advance(timedelta(days=6))
    run_due(Cases(db, clock))
    few = _statements(client, db, "/office/scorecards", year=2026)
    # More units with records, more cases, more cards: the same statements.
    for i, receiver in enumerate(("as_pb_gov", "as_xx_gov", "gy_by_gov", "gy_hx_gov", "gy_qz_gov") * 2):
        api.referral("as_sthjj", receiver, title=f"考核语句事项{i + 1}")
    clock.advance(timedelta(days=6))
    run_due(Cases(db, clock))
    many = _statements(client, db, "/office/scorecards", year=2026)
    assert many == few, (few, many)
    assert few < 20, few
    page = client.get("/office/scorecards", params={"year": 2026}).text
    assert page.count('data-testid="unit-detail"') >= 6


def test_a_case_page_reads_its_links_in_a_fixed_number_of_statements(client, api, db, clock):
    from db.repositories import time as trepo

    sign_in(client, "office")
    case_id = api.referral("gy_sthjj", "gy_qz_gov", title="链接语句事项")["id"]
    others = [api.referral("gy_sthjj", "gy_qz_gov", title=f"关联事项{i}")["id"] for i in range(5)]
    with db.write() as conn:
        trepo.link(conn, case_id, others[0], "related", clock.now())
    one = _statements(client, db, f"/case/{case_id}")
    with db.write() as conn:
        for other in others[1:3]:
            trepo.link(conn, case_id, other, "related", clock.now())
        for other in others[3:]:
            trepo.link(conn, other, case_id, "related", clock.now())  # links from the other end count too
    five = _statements(client, db, f"/case/{case_id}")
    assert five == one, (one, five)
    page = client.get(f"/case/{case_id}").text
    assert all(number in page for number in _numbers(db, others))  # every linked case is on the page that was counted


def _numbers(db, ids):
    from db.models import Case

    with db.read() as conn:
        return list(conn.execute(select(Case.__table__.c.number).where(Case.__table__.c.id.in_(ids))).scalars())


OFFICE_PAGES = ("/office/ladder", "/office/overdue", "/office/calendar", "/office/ledgers", "/messages",
                "/office/operations")


def test_the_office_pages_read_a_page_in_a_fixed_number_of_statements(client, api, db, clock):
    sign_in(client, "office")
    client.get("/")
    _referrals(api, db, clock, 3)
    few = {path: _statements(client, db, path) for path in OFFICE_PAGES}
    _referrals(api, db, clock, 9)  # nine more cases, each with its supervision case and link
    many = {path: _statements(client, db, path) for path in OFFICE_PAGES}
    assert many == few, (few, many)
    assert client.get("/office/ladder").text.count("统计语句事项") >= 12  # the ladder lists every one counted
