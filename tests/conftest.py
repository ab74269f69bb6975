"""Real databases for every test: SQLite in a temp dir and a throwaway PostgreSQL database.

GONGZHI_TEST_DATABASES (default "sqlite,postgresql") picks the backends; GONGZHI_TEST_PG_URL
names a server (scripts/ensure-postgres starts one when none is reachable). An unreachable
PostgreSQL is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from db.models import (
    AccountChange,
    CadenceRun,
    CalendarFeed,
    Case,
    CaseAssignment,
    CaseHistory,
    CaseKey,
    CaseLink,
    CaseParty,
    CaseRead,
    CaseShare,
    Channel,
    Deadline,
    Delegation,
    Delivery,
    Document,
    JobFailure,
    Notice,
    NoticeRead,
    OutboxItem,
    Sequence,
    Setting,
    SignInAttempt,
    Timer,
    WorkerHeartbeat,
    WorkVisit,
)
from db.session import Database
from engine.actors import Actor
from engine.bootstrap import init_database
from engine.cases import Cases
from engine.clock import FixedClock
from engine.publishing import load_task_force

FIXTURES = Path(__file__).parent / "fixtures"
BACKENDS = [b.strip() for b in os.environ.get("GONGZHI_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
PG_URL = os.environ.get("GONGZHI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres_only" in item.keywords and "backend" in getattr(item, "fixturenames", ()):
            callspec = getattr(item, "callspec", None)
            if callspec and callspec.params.get("backend") == "sqlite":
                item.add_marker(pytest.mark.deselect_sqlite)
    deselected = [i for i in items if "deselect_sqlite" in i.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [i for i in items if "deselect_sqlite" not in i.keywords]


def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (scripts/test): whole files to a worker, so module fixtures are built once, and
    the whole of tests/workflows to one worker — its last test checks what the others fired."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/workflows" if path.startswith("tests/workflows/") else path

    return ByFile(config, log)


def pytest_configure(config):
    config.addinivalue_line("markers", "deselect_sqlite: internal")


class ServerDatabases:
    """Creates and drops throwaway databases on one PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.base = make_url(url)
        self.created: list[str] = []

    def new(self) -> str:
        name = f"gongzhi_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_server():
    server = ServerDatabases(PG_URL)
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def fresh_url(request, tmp_path_factory):
    """A factory of empty databases: fresh_url(backend) -> URL."""
    counter = iter(range(10**6))

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / f'fresh{next(counter)}.sqlite3'}"
        return request.getfixturevalue("pg_server").new()

    return make


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def _loaded(backend, fresh_url):
    """One migrated database per backend with the real workflows and the fixture task forces loaded."""
    from workflows import ROOT

    db = Database(fresh_url(backend))
    init_database(db, ROOT)
    with db.write() as conn:
        for folder in ("toy", "docs"):
            load_task_force(conn, FIXTURES / folder, FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    yield db
    db.dispose()


@pytest.fixture
def db(_loaded) -> Database:
    """The loaded database, with every case removed before the test."""
    with _loaded.write() as conn:
        for model in (WorkVisit, CalendarFeed, AccountChange, CaseRead, CaseShare, CaseAssignment, Delegation, SignInAttempt, Delivery, NoticeRead, Notice, Channel, JobFailure, WorkerHeartbeat, Document, OutboxItem, Timer, Deadline, CaseLink, CadenceRun, Setting, CaseHistory, CaseKey, CaseParty,
                      Case, Sequence):
            # Rules stored at load (notifications, naming, worklist, figures) stay: they belong to the folders, not to a test.
            conn.execute(delete(model.__table__).where(~Setting.key.startswith("notifications:")
                                                       & ~Setting.key.startswith("naming:")
                                                       & ~Setting.key.startswith("worklist:")
                                                       & ~Setting.key.startswith("figures:"))
                         if model is Setting else delete(model.__table__))
    return _loaded


@pytest.fixture
def clock() -> FixedClock:
    # Strictly increasing so history times are distinct and ordered.
    return FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), step=timedelta(seconds=1))


@pytest.fixture
def cases(db, clock) -> Cases:
    return Cases(db, clock)


OFFICE = Actor.of("office-1", "t_office", "office", name="办公室张三")
A = Actor.of("a-1", "t_a_bureau", "member", name="甲局李四")
B = Actor.of("b-1", "t_b_bureau", "member", name="乙局王五")
BGOV = Actor.of("bg-1", "t_b_gov", "member", name="乙市政府赵六")


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """An aware datetime in Asia/Shanghai."""
    from engine.localtime import LOCAL_TZ

    return datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


def end_of(y: int, m: int, d: int) -> datetime:
    from datetime import date

    from engine.localtime import end_of_local_day

    return end_of_local_day(date(y, m, d))


@pytest.fixture(scope="session")
def simulated_two_lakes(backend, fresh_url):
    """One simulated year of the two-lakes mechanism per backend, run to 30 June 2026 (the half the
    lists are busiest in), shared by the tests that check 我的待办 against the engine. The clock stands
    at the simulation's end; tests that act on it add their own cases and judge against the engine."""
    from engine.cases import Cases
    from simulation.driver import run
    from workflows import ROOT

    db = Database(fresh_url(backend))
    init_database(db, ROOT)
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    run(Cases(db, clock), clock, task_force="two_lakes", year=2026, seed=1, root=ROOT,
        until=datetime(2026, 6, 30).date())
    yield db, clock
    db.dispose()
