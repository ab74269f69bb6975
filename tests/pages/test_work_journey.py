"""On the simulated two-lakes year, in headless Chromium: the office, the convenor, a department and a
procurator each find on 我的待办 exactly the cases the engine says they are awaited on, with the right
counters; a clerk finds a case by its number and by a two-character word; an export holds the rows shown."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import playwright.sync_api as playwright
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from api.app import create_app
from api.pages.render import days_left
from db.models import Case
from db.repositories import case_queries
from db.settings import Settings
from engine.access import CaseAccess, Viewer
from engine.awaited import optional_events
from engine.cases import Cases
from engine.clock import FixedClock
from tests.pages.browser import CHROMIUM, CHROMIUM_ARGS, demo_accounts, serving, signed_in_page

expect = playwright.expect
PEOPLE = {  # username → the viewer the engine judges for (demo_accounts.yaml)
    "office": Viewer("j:office", "专班办公室", "two_lakes_office", "two_lakes", frozenset({"office", "office_head"}),
                     office=True),
    "convenor": Viewer("j:convenor", "召集人", "gy_gov", "two_lakes", frozenset({"convenor"})),
    "gy_sthjj": Viewer("j:gy_sthjj", "贵阳市生态环境局", "gy_sthjj", "two_lakes", frozenset({"member"})),
    "procurator": Viewer("j:procurator", "贵阳市检察院", "gy_jcy", "two_lakes",
                         frozenset({"procurator", "chief_procurator"})),
}


@pytest.fixture(scope="module")
def site(simulated_two_lakes, tmp_path_factory):
    db, sim_clock = simulated_two_lakes
    clock = FixedClock(sim_clock.now() + timedelta(hours=1), step=timedelta(seconds=1))
    demo_accounts(db, clock)
    # The half-year leaves the procuratorate nothing to do: a clue reaches it from a department.
    with db.write() as conn:
        CaseAccess(Cases(db, clock), PEOPLE["gy_sthjj"]).start(
            conn, workflow="pil_case", title="红枫湖沿岸非法采砂线索", payload={
                "facts": "红枫湖二级保护区内有非法采砂，行政机关未依法查处", "procuratorate": "gy_jcy", "agency": "gy_qz_gov"})
    tmp = tmp_path_factory.mktemp("journey")
    settings = Settings(environment="test", data_dir=tmp, password_profile="cheapest", log_level="WARNING")
    with serving(create_app(settings, db, clock)) as port:
        yield f"http://127.0.0.1:{port}", db, clock


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _expected(db, clock, viewer: Viewer) -> dict[int, int | None]:
    """Case id → days left, for every open case where the engine says the viewer is awaited."""
    cases = Cases(db, clock)
    access = CaseAccess(cases, viewer)
    out = {}
    with db.read() as conn:
        for case_id in conn.execute(select(Case.id).where(~Case.closed)).scalars():
            record = case_queries.record(conn, case_id)
            if not access.visible(conn, record):
                continue
            optional = optional_events(conn, record.task_force_code).get(record.workflow, frozenset())
            events = access.allowed(conn, record)
            owes = viewer.unit in record.parties.get(record.due_role or "", ())  # then every open event is mine
            if [e for e in events if owes or e not in optional]:
                out[case_id] = days_left(record.due_at, clock.now())
    return out


def _listed(page) -> list[int]:
    """Every case on 我的待办, following the pager."""
    ids = []
    while True:
        ids += [int(r.get_attribute("data-case")) for r in page.locator("[data-testid=my-work] tbody tr").all()]
        following = page.get_by_role("link", name="下一页")
        if not following.count():
            return ids
        following.click()
        page.wait_for_load_state()


@pytest.mark.parametrize("username", list(PEOPLE))
def test_each_persons_work_is_exactly_where_the_engine_awaits_them(site, browser, username):
    url, db, clock = site
    expected = _expected(db, clock, PEOPLE[username])
    context, page = signed_in_page(browser, url, username)
    counters = page.get_by_test_id("counters").inner_text()
    listed = _listed(page)
    context.close()
    assert sorted(listed) == sorted(expected) and len(listed) == len(set(listed))
    assert expected, f"{username} is awaited on something"
    days = [d for d in expected.values() if d is not None]
    assert f"已逾期 {sum(1 for d in days if d < 0)}" in counters
    assert f"今日到期 {sum(1 for d in days if d == 0)}" in counters
    assert f"本周到期 {sum(1 for d in days if 0 <= d <= 7)}" in counters
    assert f"共 {len(expected)} 件" in counters


def test_a_clerk_finds_a_case_by_number_and_word_and_exports_what_is_shown(site, browser):
    url, db, clock = site
    with db.read() as conn:
        number, case_id, title = conn.execute(
            select(Case.number, Case.id, Case.title).where(Case.task_force_code == "two_lakes", Case.title.like("%红枫湖%"))
            .order_by(Case.id)).first()
    context, page = signed_in_page(browser, url, "office")
    page.fill("header input[name=q]", number)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/case/{case_id}")
    page.goto("/search?q=" + "红枫")  # two characters: matched without trigrams
    total = int(re.search(r"共 (\d+) 件", page.get_by_test_id("total").inner_text()).group(1))
    assert total >= 1
    shown = [s.inner_text() for s in page.locator("[data-testid=case-list] tbody tr td:first-child .muted").all()]
    assert shown and all(t for t in shown)
    href = page.get_by_test_id("export").get_attribute("href")
    sheet = load_workbook(io.BytesIO(page.request.get(url + href).body())).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == shown
    assert title  # the case found by number is a real one
    context.close()
