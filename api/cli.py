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


def _accounts():
    from datetime import timedelta

    from api.accounts import Accounts, hasher

    settings = get_settings()
    return Accounts(hasher(settings.password_profile), timedelta(hours=settings.token_ttl_hours))


@app.command()
def init(database_url: DbOption = None,
         demo: Annotated[bool, typer.Option("--demo", help="also create one demo account per kind of user")] = False
         ) -> None:
    """迁移数据库并载入各专班的组织与流程定义 / migrate and load organisations and definitions."""
    from engine.bootstrap import init_database
    from engine.clock import SystemClock
    from workflows import ROOT

    db = _database(database_url)
    report = init_database(db, ROOT)
    typer.echo(f"数据库 database: {db.url.render_as_string(hide_password=True)} — migrations at head")
    for name, r in report.items():
        typer.echo(f"专班 {name}: organisation {'loaded' if r['organisation_changed'] else 'unchanged'}, "
                   f"{r['definitions_published']} of {r['definitions']} definitions newly published")
    if demo:
        from api.demo import create_demo_accounts

        made = create_demo_accounts(db, _accounts(), ROOT, SystemClock())
        typer.echo("演示账号 demo accounts (密码只显示这一次 / passwords are shown this once):")
        for a in made:
            shown = a.password if a.password else "（已存在，密码不变 / exists, password unchanged）"
            typer.echo(f"  {a.username:<12} {shown:<18} {a.unit:<18} {','.join(a.roles):<28} {a.name}")
    _warn_harfbuzz()


user_app = typer.Typer(help="账号 / user accounts", no_args_is_help=True)
key_app = typer.Typer(help="系统对接密钥 / API keys for other systems", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(key_app, name="apikey")

RoleOption = Annotated[list[str], typer.Option("--role", "-r", help="an organisation role; repeat for several")]
UnitOption = Annotated[str, typer.Option("--unit", "-u", help="the unit code the account speaks for")]
TaskForceOption = Annotated[str | None, typer.Option(
    "--task-force", help="default: the one task force the unit belongs to")]


def _task_force_of(db, unit: str, given: str | None) -> str:
    if given:
        return given
    from db.repositories.accounts import task_forces_of_unit

    with db.read() as conn:
        found = task_forces_of_unit(conn, unit)
    if len(found) != 1:
        typer.echo(f"unit {unit!r} belongs to {len(found)} task forces ({', '.join(found) or 'none'}); "
                   "name one with --task-force", err=True)
        raise typer.Exit(2)
    return found[0]


def _refused(exc) -> None:
    typer.echo(f"refused: {exc}", err=True)
    raise typer.Exit(2)


@user_app.command("add")
def user_add(username: str, unit: UnitOption, role: RoleOption,
             name: Annotated[str, typer.Option("--name", help="显示名 / display name")] = "",
             task_force: TaskForceOption = None,
             password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
             generate: Annotated[bool, typer.Option(help="generate a password and print it once")] = False,
             database_url: DbOption = None) -> None:
    """新建账号 / create a user account (passwords are hashed with argon2id)."""
    import secrets

    from engine.clock import SystemClock
    from engine.errors import EngineError

    db = _database(database_url)
    tf = _task_force_of(db, unit, task_force)
    if generate:
        password = secrets.token_urlsafe(12)
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("密码 password", hide_input=True, confirmation_prompt=True)
    try:
        with db.write() as conn:
            user_id = _accounts().create_user(conn, username=username, display_name=name or username, unit=unit,
                                              task_force=tf, roles=role, password=password, now=SystemClock().now())
    except EngineError as exc:
        _refused(exc)
    typer.echo(f"created user:{user_id} {username} ({unit}, {tf}, roles {','.join(role)})")
    if generate:
        typer.echo(f"password (shown once): {password}")


@key_app.command("add")
def apikey_add(name: str, unit: UnitOption, role: RoleOption, task_force: TaskForceOption = None,
               database_url: DbOption = None) -> None:
    """新建系统对接密钥 / create an API key for another system; the key is printed once."""
    from engine.clock import SystemClock
    from engine.errors import EngineError

    db = _database(database_url)
    tf = _task_force_of(db, unit, task_force)
    try:
        with db.write() as conn:
            key_id, key = _accounts().create_key(conn, name=name, unit=unit, task_force=tf, roles=role,
                                                 now=SystemClock().now())
    except EngineError as exc:
        _refused(exc)
    typer.echo(f"created key:{key_id} {name} ({unit}, {tf}, roles {','.join(role)})")
    typer.echo(f"API key (shown once; send as X-API-Key): {key}")


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


if __name__ == "__main__":
    app()
