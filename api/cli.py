"""The `gongzhi` command."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from db.session import Database
from db.settings import get_settings

app = typer.Typer(help="共治 gongzhi — 跨区域联动治理工作流引擎", no_args_is_help=True, add_completion=False)


def _database(url: str | None) -> Database:
    return Database(url or get_settings().resolved_database_url())


DbOption = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL; default GONGZHI_DATABASE_URL or SQLite in GONGZHI_DATA_DIR")]


@app.command()
def init(database_url: DbOption = None) -> None:
    """迁移数据库并载入各专班的组织与流程定义 / migrate and load organisations and definitions."""
    from engine.bootstrap import init_database
    from workflows import ROOT

    db = _database(database_url)
    report = init_database(db, ROOT)
    typer.echo(f"数据库 database: {db.url.render_as_string(hide_password=True)} — migrations at head")
    for name, r in report.items():
        typer.echo(f"专班 {name}: organisation {'loaded' if r['organisation_changed'] else 'unchanged'}, "
                   f"{r['definitions_published']} of {r['definitions']} definitions newly published")
    _warn_harfbuzz()


def _warn_harfbuzz() -> None:
    try:
        from documents.render import check_harfbuzz_subset
    except ImportError:
        return
    status = check_harfbuzz_subset()
    if status is not True:
        typer.secho(f"警告 WARNING: libharfbuzz-subset is missing ({status}); PDF rendering will take 20–30 s "
                    "per document. Install Debian's libharfbuzz-subset0.", fg="red", err=True, bold=True)


@app.command()
def serve(host: Annotated[str | None, typer.Option()] = None, port: Annotated[int | None, typer.Option()] = None,
          database_url: DbOption = None) -> None:
    """启动网页与接口服务 / serve the web pages and API."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings, _database(database_url)), host=host or settings.host,
                port=port or settings.port, log_level="info")


@app.command()
def verify(database_url: DbOption = None) -> None:
    """核验每个案件：历史重放与哈希链 / replay every case and check its hash chain."""
    from engine.cases import Cases

    db = _database(database_url)
    problems = Cases(db).verify()
    with db.read() as conn:
        from db.repositories.cases import count

        total = count(conn)
    for p in problems:
        typer.echo(p, err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {total} cases", err=True)
        sys.exit(1)
    typer.echo(f"OK: {total} cases replay to their state; every hash chain holds")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-12-31") from None


@app.command()
def schedule(from_: Annotated[str, typer.Option("--from", help="first day, e.g. 2026-01-01")],
             to: Annotated[str, typer.Option("--to", help="last day, e.g. 2026-12-31")],
             database_url: DbOption = None) -> None:
    """生成周期性工作（会议、排查、报送）/ materialise recurring duties for the periods starting in a range."""
    from engine.cases import Cases
    from engine.scheduler import schedule as run_schedule
    from workflows import ROOT

    created = run_schedule(Cases(_database(database_url)), ROOT, _day(from_), _day(to))
    typer.echo(f"{created} 个新案件 new duty cases (existing periods are left as they are)")


@app.command()
def tick(until: Annotated[str, typer.Option(help="advance the simulated clock to the end of this day")],
         from_: Annotated[str | None, typer.Option("--from", help="start here when no simulation is running")] = None,
         database_url: DbOption = None) -> None:
    """推进模拟时钟 / advance a simulated clock: duties appear, timers fire, day by day."""
    from engine.cases import Cases
    from engine.clock import FixedClock
    from engine.scheduler import tick as run_tick
    from workflows import ROOT

    clock = FixedClock(datetime.now(UTC))
    cases = Cases(_database(database_url), clock)
    report = run_tick(cases, clock, ROOT, _day(until), _day(from_) if from_ else None)
    t = report.timers
    typer.echo(f"到 {until}：新建 {report.created} 个周期性案件；计时器触发 {t.fired} 个"
               f"（提醒 {t.warnings}，到期 {t.expired}，开启督办 {t.ladders_opened}），放弃 {t.dropped} 个")


@app.command()
def clock(interval: Annotated[float, typer.Option(help="seconds between rounds")] = 30.0,
          once: Annotated[bool, typer.Option(help="one round, then exit")] = False,
          database_url: DbOption = None) -> None:
    """运行时钟：生成到期的周期性工作并触发到期计时器 / run the clock worker against real time."""
    import time as _time

    from engine.calendar import LOCAL_TZ
    from engine.cases import Cases
    from engine.scheduler import schedule as run_schedule
    from engine.timers import run_due
    from workflows import ROOT

    cases = Cases(_database(database_url))
    while True:
        today = datetime.now(LOCAL_TZ).date()
        created = run_schedule(cases, ROOT, today.replace(day=1), today)
        report = run_due(cases)
        typer.echo(f"{datetime.now(LOCAL_TZ):%Y-%m-%d %H:%M:%S} duties +{created}, timers fired {report.fired}, "
                   f"dropped {report.dropped}")
        if once:
            return
        _time.sleep(interval)
@app.command("render-pending")
def render_pending(limit: Annotated[int, typer.Option(help="at most this many documents")] = 50,
                   database_url: DbOption = None) -> None:
    """出具待办公文：编号、渲染、归档 / number, render and archive the documents events have queued."""
    from documents.outbox import process_pending
    from engine.clock import SystemClock

    _warn_harfbuzz()
    outcome = process_pending(_database(database_url), SystemClock(), limit)
    for item_id, error in outcome.failed:
        typer.echo(f"outbox item {item_id}: {error}", err=True)
    typer.echo(f"{len(outcome.issued)} issued, {len(outcome.failed)} failed (failures are retried later)")
    if outcome.failed:
        sys.exit(1)


if __name__ == "__main__":
    app()
