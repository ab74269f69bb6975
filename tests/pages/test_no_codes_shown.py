"""Nothing a person reads is a code: on the simulated two-lakes year, each demo account signs in and reads
every page its navigation reaches (and the pages those link to, once per kind of page) and every case page
it may see; no page's visible text holds a snake_case name, a bare code word, an ISO date, a period code or
raw JSON (tests/pages/crawl.py says what counts)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.accounts import Accounts, hasher
from api.app import create_app
from db.models import Case
from db.settings import Settings
from engine.clock import FixedClock
from tests.pages.browser import PASSWORD, demo_accounts
from tests.pages.crawl import context, offences, read, same_site_paths
from workflows import ROOT

DEMO = yaml.safe_load((ROOT / "two_lakes" / "demo_accounts.yaml").read_text(encoding="utf-8"))["accounts"]
OTHERS = ("chongchuan", "daxinganling", "huzhou", "xiangtan")
USERNAMES = [a["username"] for a in DEMO]
# Usernames are what a person types to sign in: the accounts page may show them.
SHOWN_NAMES = [*USERNAMES, *(f"{tf}_office" for tf in OTHERS)]
# Never followed: downloads, feeds, the sign-out form's target, static files, printouts (a case page again).
_SKIP = re.compile(r"^/(static|logout|calendar/feed|documents|attachments)|\.(xlsx|ics|pdf|csv|json)(\?|$)|/print$")
_KINDS_PER_PATH = 3  # pages of one kind (digits and queries aside) read beyond the first — pagers, months


@pytest.fixture(scope="module")
def site(simulated_two_lakes, tmp_path_factory):
    db, sim_clock = simulated_two_lakes
    clock = FixedClock(sim_clock.now() + timedelta(hours=1), step=timedelta(seconds=1))
    demo_accounts(db, clock)
    settings = Settings(environment="test", data_dir=tmp_path_factory.mktemp("crawl"), password_profile="cheapest",
                        log_level="WARNING")
    with db.read() as conn:
        case_ids = list(conn.execute(select(Case.id).order_by(Case.id)).scalars())
    return create_app(settings, db, clock), case_ids


def _signed_in(app, username: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/", "login_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def _found(text: str) -> dict:
    """The codes on a page, with where the first stands ("where")."""
    found = offences(text, SHOWN_NAMES)
    return {**found, "where": [context(text, found)]} if found else {}


def _crawl(client: TestClient, case_ids: list[int]) -> tuple[dict[str, dict], dict[str, dict]]:
    """(page → offences, case page → offences) for every page read."""
    pages: dict[str, dict] = {}
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    queue = ["/"]
    while queue:
        path = queue.pop(0)
        kind = re.sub(r"\d+", "#", path.split("?")[0])
        if path in seen or _SKIP.search(path) or path.startswith("/case/") or kinds[kind] > _KINDS_PER_PATH:
            continue
        seen.add(path)
        kinds[kind] += 1
        r = client.get(path)
        if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/html"):
            continue
        text, links = read(r.text)
        pages[path] = _found(text)
        if path.count("/") <= 2:  # the nav's pages and those they link to
            queue += same_site_paths(str(r.url), links)
    cases: dict[str, dict] = {}
    for case_id in case_ids:
        r = client.get(f"/case/{case_id}")
        if r.status_code == 200:
            cases[f"/case/{case_id}"] = _found(read(r.text)[0])
    return pages, cases


def _summary(username: str, pages: dict[str, dict], cases: dict[str, dict]) -> str:
    bad_pages = {p: o for p, o in pages.items() if o}
    bad_cases = {p: o for p, o in cases.items() if o}
    per_kind = Counter(k for o in bad_cases.values() for k in o if k != "where")
    words = Counter(w for o in [*bad_pages.values(), *bad_cases.values()] for k, ws in o.items() if k != "where"
                    for w in ws)
    lines = [f"{username}: {len(bad_pages)} of {len(pages)} pages and {len(bad_cases)} of {len(cases)} case pages "
             f"show codes; case pages by kind: {dict(per_kind)}; commonest: {words.most_common(25)}"]
    lines += [f"  {p}: {o}" for p, o in list(bad_pages.items())[:30]]
    lines += [f"  {p}: {o}" for p, o in list(bad_cases.items())[:10]]
    return "\n".join(lines)


@pytest.mark.parametrize("username", USERNAMES)
def test_no_page_shows_a_code(site, username):
    app, case_ids = site
    client = _signed_in(app, username)
    pages, cases = _crawl(client, case_ids)
    print(_summary(username, pages, cases))
    assert len(pages) >= 4, f"{username} reached only {sorted(pages)}"
    assert not any(pages.values()) and not any(cases.values()), _summary(username, pages, cases)



@pytest.fixture(scope="module")
def other_task_forces(backend, fresh_url, tmp_path_factory):
    """The other four task forces over a year of their own: every cadence's duties of that year and
    every items file opened as cases, an office account per task force."""
    from datetime import UTC, date, datetime

    from db.session import Database
    from engine.bootstrap import init_database
    from engine.cases import Cases
    from engine.items import load_items
    from engine.organisation import parse_organisation
    from engine.scheduler import schedule
    from engine.schema import kind_of

    db = Database(fresh_url(backend))
    clock = FixedClock(datetime(2018, 1, 1, tzinfo=UTC), step=timedelta(seconds=1))
    init_database(db, ROOT, clock)
    cases = Cases(db, clock)
    service = Accounts(hasher("cheapest"), timedelta(hours=12))
    offices = {}
    for tf in OTHERS:
        folder = ROOT / tf
        org = parse_organisation(folder / "organisation.yaml")
        for path in sorted(folder.glob("*.yaml")):
            if kind_of(path, folder) == "items":
                load_items(cases, org.code, path)
        # The office is a unit of kind office, or a department that hosts it (office_hosts).
        hosts = list(org.task_force.get("office_hosts") or ()) + [u["code"] for u in org.units
                                                                   if u.get("kind") == "office"]
        with db.write() as conn:
            service.create_user(conn, username=f"{tf}_office", display_name=f"{tf}专班办公室", unit=hosts[0],
                                task_force=org.code, roles=["office"], password=PASSWORD, now=clock.now())
        offices[tf] = f"{tf}_office"
    for year in range(2016, 2021):  # the years the four mechanisms ran
        schedule(cases, ROOT, date(year, 1, 1), date(year, 12, 31), OTHERS)
    clock.set(datetime(2026, 6, 30, tzinfo=UTC))
    settings = Settings(environment="test", data_dir=tmp_path_factory.mktemp("crawl4"), password_profile="cheapest",
                        log_level="WARNING")
    with db.read() as conn:
        case_ids = list(conn.execute(select(Case.id).order_by(Case.id)).scalars())
    yield create_app(settings, db, clock), case_ids, offices
    db.dispose()


@pytest.mark.parametrize("task_force", OTHERS)
def test_no_page_of_the_other_task_forces_shows_a_code(other_task_forces, task_force):
    app, case_ids, offices = other_task_forces
    client = _signed_in(app, offices[task_force])
    pages, cases = _crawl(client, case_ids)
    print(_summary(task_force, pages, cases))
    assert cases, f"{task_force}'s office sees no case"
    assert not any(pages.values()) and not any(cases.values()), _summary(task_force, pages, cases)
