"""The `gongzhi` command."""

from __future__ import annotations

import sys
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
