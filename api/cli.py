"""The `gongzhi` command."""

from __future__ import annotations

import os
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
    report = init_database(db, ROOT, document_kinds=_document_kinds())
    typer.echo(f"数据库 database: {db.url.render_as_string(hide_password=True)} — migrations at head")
    refused = []
    for name, r in report.items():
        if "problems" in r:
            refused.append(name)
            typer.echo(f"专班 {name}: 未载入 NOT loaded — {len(r['problems'])} 个问题 problem(s):")
            for line in r["problems"]:
                typer.echo(f"  {line}")
            continue
        typer.echo(f"专班 {name}: organisation {'loaded' if r['organisation_changed'] else 'unchanged'}, "
                   f"{r['definitions_published']} of {r['definitions']} definitions newly published")
    if demo:
        from api.demo import create_demo_accounts

        made = create_demo_accounts(db, _accounts(), ROOT, SystemClock())
        typer.echo("演示账号 demo accounts (密码只显示这一次 / passwords are shown this once):")
        for a in made:
            shown = a.password if a.password else "（已存在，密码不变 / exists, password unchanged）"
            typer.echo(f"  {a.username:<14} {shown:<18} {a.unit:<18} {','.join(a.roles):<28} {a.name}")
    _warn_harfbuzz()
    if refused:
        typer.echo(f"未载入的专班 refused: {', '.join(refused)} (gongzhi check 列出全部问题 / lists every problem)",
                   err=True)
        sys.exit(1)


def _document_kinds() -> frozenset[str]:
    from documents.contexts import kinds

    return frozenset(kinds())


@app.command()
def check(folder: Annotated[str | None, typer.Argument(
        help="a task force folder (default: every folder under workflows/)")] = None) -> None:
    """检查机制文件（不连接数据库）/ check a task force's files without a database: every problem at once,
    one per line as file:line: what is wrong — what is allowed."""
    from pathlib import Path

    from engine.bootstrap import task_force_folders
    from engine.check import check_folder, check_root
    from workflows import ROOT

    kinds = _document_kinds()
    if folder is None:
        found = [p for ps in check_root(ROOT, document_kinds=kinds).values() for p in ps]
    else:
        here = Path(folder)
        if not here.is_dir():
            typer.echo(f"{folder}: 不是文件夹 not a folder", err=True)
            sys.exit(2)
        others = [o for o in task_force_folders(ROOT) if o.resolve() != here.resolve()]
        found = check_folder(here, others=others, document_kinds=kinds)
    for problem in found:
        typer.echo(str(problem))
    if found:
        typer.echo(f"{len(found)} 个问题 problem(s)")
        sys.exit(1)
    typer.echo("无问题 / no problems")


@app.command()
def schema(out_dir: Annotated[str, typer.Argument(help="where to write <kind>.schema.json")] = "schema",
           markdown: Annotated[bool, typer.Option("--markdown", help="print the reference tables of "
                                                   "workflows/README.md instead")] = False) -> None:
    """写出各类机制文件的 JSON Schema / write one JSON Schema per kind of mechanism file (for editors)."""
    import json
    from pathlib import Path

    from engine import schema as schemas

    if markdown:
        from engine.schema.tables import tables

        typer.echo(tables(), nl=False)
        return
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for kind, spec in schemas.KINDS.items():
        path = out / f"{kind}.schema.json"
        path.write_text(json.dumps(schemas.json_schema(kind), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"{path}  {spec.pattern}: {spec.title}")


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


def _write_or_refuse(db: Database, act):
    """act(conn) in one write transaction; a refusal by the engine exits 2 with its reason."""
    from engine.errors import EngineError

    try:
        with db.write() as conn:
            return act(conn)
    except EngineError as exc:
        _refused(exc)


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

    db = _database(database_url)
    tf = _task_force_of(db, unit, task_force)
    if generate:
        password = secrets.token_urlsafe(12)
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("密码 password", hide_input=True, confirmation_prompt=True)
    user_id = _write_or_refuse(db, lambda conn: _accounts().create_user(
        conn, username=username, display_name=name or username, unit=unit, task_force=tf, roles=role,
        password=password, now=SystemClock().now()))
    typer.echo(f"created user:{user_id} {username} ({unit}, {tf}, roles {','.join(role)})")
    if generate:
        typer.echo(f"password (shown once): {password}")


@user_app.command("disable")
def user_disable(username: str, database_url: DbOption = None) -> None:
    """停用账号并使其登录失效 / deactivate a user account and end its sign-ins."""
    user_id = _write_or_refuse(_database(database_url), lambda conn: _accounts().disable_user(conn, username))
    typer.echo(f"disabled user:{user_id} {username}; its sign-ins are ended")


@key_app.command("revoke")
def apikey_revoke(key_id: Annotated[int, typer.Argument(help="the number `apikey add` printed after key:")],
                  database_url: DbOption = None) -> None:
    """吊销系统对接密钥 / revoke an API key."""
    name = _write_or_refuse(_database(database_url), lambda conn: _accounts().revoke_key(conn, key_id))
    typer.echo(f"revoked key:{key_id} {name}")


@key_app.command("add")
def apikey_add(name: str, unit: UnitOption, role: RoleOption, task_force: TaskForceOption = None,
               database_url: DbOption = None) -> None:
    """新建系统对接密钥 / create an API key for another system; the key is printed once."""
    from engine.clock import SystemClock

    db = _database(database_url)
    tf = _task_force_of(db, unit, task_force)
    key_id, key = _write_or_refuse(db, lambda conn: _accounts().create_key(
        conn, name=name, unit=unit, task_force=tf, roles=role, now=SystemClock().now()))
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
          workers: Annotated[int | None, typer.Option(min=1, help="server processes; default GONGZHI_WORKERS, "
                                                      "else 1 on SQLite and one per core on PostgreSQL")] = None,
          background: Annotated[bool, typer.Option(
              "--background/--no-background",
              help="also run the clock, documents and notices in this process (off when `gongzhi worker` "
                   "processes do it)")] = True,
          database_url: DbOption = None) -> None:
    """启动网页与接口服务及后台工作（时钟、公文、通知）/ serve the pages and API, and run the background work."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    url = database_url or settings.resolved_database_url()
    if background:
        # The background work writes on real time: refuse a database simulated ahead of it.
        _claim(_database(url), "real", by="gongzhi serve")
    n = workers or settings.resolved_workers(url)
    where = {"host": host or settings.host, "port": port or settings.port, "log_level": "info",
             "timeout_graceful_shutdown": 30}
    if n == 1:
        settings = settings.model_copy(update={"background": background})
        uvicorn.run(create_app(settings, _database(url)), **where)
        return
    # Each worker process builds its own app from the environment.
    os.environ["GONGZHI_DATABASE_URL"] = url
    os.environ["GONGZHI_BACKGROUND"] = "true" if background else "false"
    typer.echo(f"serving with {n} worker processes", err=True)
    uvicorn.run("api.app:create_app", factory=True, workers=n, **where)


@app.command()
def worker(task_force: Annotated[list[str] | None, typer.Option(
               "--task-force", help="only this task force's cadences; repeat for several (default: all)")] = None,
           database_url: DbOption = None) -> None:
    """运行后台工作（时钟、公文、通知），可与多个服务进程并行 / run the background work in its own process
    (any number of them beside the API processes on PostgreSQL); stops cleanly on SIGTERM."""
    from api import logging as gz_logging
    from api.background import Background
    from engine.cases import Cases
    from workflows import ROOT

    settings = get_settings()
    gz_logging.configure(settings.log_level, settings.log_json)
    db = _database(database_url)
    _claim(db, "real", by="gongzhi worker")
    typer.echo(f"worker {os.getpid()} on {db.url.render_as_string(hide_password=True)}", err=True)
    Background(db, Cases(db), settings, ROOT, task_forces=frozenset(task_force) if task_force else None).run_forever()


@app.command()
def verify(database_url: DbOption = None, attachments_dir: AttachmentsOption = None) -> None:
    """核验每个案件：历史重放与哈希链；附件与归档公文的 SHA-256 / replay every case and check its hash
    chain; check every attachment file and archived document against its recorded SHA-256."""
    from api.backup import check_files
    from engine.cases import Cases

    db = _database(database_url)
    with db.read() as conn:
        problems = Cases(db).verify(conn)
    files, attachments, documents = check_files(db, _attachments_dir(attachments_dir))
    problems += files
    with db.read() as conn:
        from db.repositories.cases import count

        total = count(conn)
    for p in problems:
        typer.echo(p, err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {total} cases, {attachments} attachments, {documents} documents",
                   err=True)
        sys.exit(1)
    typer.echo(f"OK: {total} cases replay to their state; every hash chain holds; "
               f"{attachments} attachments and {documents} archived documents match their SHA-256")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-12-31") from None


ScopeOption = Annotated[list[str] | None, typer.Option(
    "--task-force", help="only this task force's cadences (repeat for several); default: every task force")]


def _scope(task_force: list[str] | None) -> list[str] | None:
    """The task forces named, checked against the folders (an unknown code exits 2 naming the known ones)."""
    if not task_force:
        return None
    from engine.scheduler import all_cadences
    from workflows import ROOT

    try:
        all_cadences(ROOT, task_force)
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    return task_force


def _claim(db: Database, mode: str, by: str, force: bool = False) -> None:
    """Record which clock drives the database; a conflict exits 2 with the reason in both languages."""
    from engine.errors import ClockConflict
    from engine.scheduler import claim_clock

    try:
        claim_clock(db, mode, by=by, force=force)
    except ClockConflict as exc:
        typer.echo(f"拒绝：{exc.message_zh}\nrefused: {exc.message}", err=True)
        raise typer.Exit(2) from None


@app.command()
def schedule(from_: Annotated[str, typer.Option("--from", help="first day, e.g. 2026-01-01")],
             to: Annotated[str, typer.Option("--to", help="last day, e.g. 2026-12-31")],
             task_force: ScopeOption = None,
             database_url: DbOption = None) -> None:
    """生成周期性工作（会议、排查、报送）/ materialise recurring duties for the periods starting in a range."""
    from engine.cases import Cases
    from engine.scheduler import schedule as run_schedule
    from workflows import ROOT

    scope = _scope(task_force)
    first, last = _day(from_), _day(to)
    db = _database(database_url)
    _claim(db, "real", "gongzhi schedule")  # its cases are opened on real time
    created = run_schedule(Cases(db), ROOT, first, last, scope)
    typer.echo(f"{created} 个新案件 new duty cases (existing periods are left as they are)")


@app.command()
def tick(until: Annotated[str, typer.Option(help="advance the simulated clock to the end of this day")],
         from_: Annotated[str | None, typer.Option("--from", help="start here when no simulation is running")] = None,
         task_force: ScopeOption = None,
         force: Annotated[bool, typer.Option(help="tick even though a real-time server has written here")] = False,
         database_url: DbOption = None) -> None:
    """推进模拟时钟 / advance a simulated clock: duties appear, timers fire, day by day
    (--task-force limits the cadences; due timers of every task force fire)."""
    from engine.cases import Cases
    from engine.clock import FixedClock
    from engine.scheduler import tick as run_tick
    from workflows import ROOT

    scope = _scope(task_force)
    end = _day(until)
    start = _day(from_) if from_ else None
    db = _database(database_url)
    _claim(db, "simulated", "gongzhi tick", force)
    clock = FixedClock(datetime.now(UTC))
    # The calendar is synced at the start of every simulated day (engine.scheduler.tick), in its time.
    report = run_tick(Cases(db, clock), clock, ROOT, end, start, scope)
    t = report.timers
    typer.echo(f"到 {until}：新建 {report.created} 个周期性案件；计时器触发 {t.fired} 个"
               f"（提醒 {t.warnings}，到期 {t.expired}，开启督办 {t.ladders_opened}），放弃 {t.dropped} 个")


@app.command()
def clock(interval: Annotated[float, typer.Option(help="seconds between rounds")] = 30.0,
          once: Annotated[bool, typer.Option(help="one round, then exit")] = False,
          task_force: ScopeOption = None,
          database_url: DbOption = None) -> None:
    """运行时钟：生成到期的周期性工作并触发到期计时器 / run the clock worker against real time
    (--task-force limits the cadences; due timers of every task force fire)."""
    import time as _time

    from engine.calendar_sync import sync_calendar
    from engine.cases import Cases
    from engine.localtime import LOCAL_TZ
    from engine.scheduler import schedule as run_schedule
    from engine.timers import run_due
    from workflows import ROOT

    scope = _scope(task_force)
    db = _database(database_url)
    _claim(db, "real", "gongzhi clock")
    cases = Cases(db)
    while True:
        # A holiday schedule published meanwhile (gongzhi init) is taken up before anything is counted.
        sync_calendar(cases)
        today = datetime.now(LOCAL_TZ).date()
        created = run_schedule(cases, ROOT, today.replace(day=1), today, scope)
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


@app.command()
def simulate(year: Annotated[int, typer.Option(help="the year to simulate, e.g. 2026")],
             seed: Annotated[int, typer.Option(help="seed of every random choice: same seed, same year")] = 1,
             task_force: Annotated[str | None, typer.Option(
                 help="the task force whose simulation.yaml drives it (default: the only one with such a file)")] = None,
             until: Annotated[str | None, typer.Option(help="stop after this day (default: the year's last)")] = None,
             database_url: DbOption = None) -> None:
    """模拟运行一年 / run a task force's mechanism for a simulated year on an empty database and summarise it."""
    from engine.bootstrap import init_database
    from engine.cases import Cases
    from engine.clock import FixedClock
    from simulation.driver import FILE, run
    from workflows import ROOT

    last = _day(until) if until else None
    if task_force is None:
        having = sorted(p.parent.name for p in ROOT.glob(f"*/{FILE}"))
        if len(having) != 1:
            raise typer.BadParameter(f"choose --task-force among: {', '.join(having) or '(none has a simulation file)'}")
        task_force = having[0]
    if not (ROOT / task_force / FILE).is_file():
        raise typer.BadParameter(f"task force {task_force!r} has no {(ROOT / task_force / FILE).relative_to(ROOT.parent)}")
    db = _database(database_url)
    init_database(db, ROOT)
    with db.read() as conn:
        from sqlalchemy import func, select

        from db.models import Case

        existing = conn.execute(select(func.count()).select_from(Case).where(Case.task_force_code == task_force)
                                ).scalar_one()
    if existing:
        typer.echo(f"{task_force} already has {existing} cases in {db.url.render_as_string(hide_password=True)}; "
                   "simulate on an empty database (--database-url sqlite:///data/simulation.sqlite3)", err=True)
        sys.exit(2)
    _claim(db, "simulated", "gongzhi simulate")
    clock = FixedClock(datetime(year, 1, 1, tzinfo=UTC))
    report = run(Cases(db, clock), clock, task_force=task_force, year=year, seed=seed, root=ROOT, until=last)
    from engine.scheduler import note_simulated_position

    note_simulated_position(db, clock.now(), "gongzhi simulate")
    typer.echo(report.render())
    if report.problems:
        sys.exit(1)


@app.command("load-items")
def load_items_cmd(file: Annotated[str, typer.Argument(help="an items file: workflow and a list of items (YAML)")],
                   task_force: Annotated[str, typer.Option("--task-force", help="the task force they belong to")],
                   database_url: DbOption = None) -> None:
    """按清单建案（任务分解表、问题清单、年度目标）/ open a case per item of a file the office edits;
    items already loaded are skipped."""
    from pathlib import Path

    from engine.cases import Cases
    from engine.errors import EngineError
    from engine.items import load_items

    try:
        created = load_items(Cases(_database(database_url)), task_force, Path(file))
    except EngineError as exc:
        _refused(exc)
    typer.echo(f"{len(created)} 个新案件 new cases (items loaded before are left as they are)")


@app.command("migrate-cases")
def migrate_cases(task_force: Annotated[str, typer.Option("--task-force", help="the task force of the workflow")],
                  workflow: Annotated[str, typer.Option("--workflow", help="the workflow's name")],
                  to_version: Annotated[int, typer.Option("--to-version", help="the version to move the cases to")],
                  case: Annotated[list[str], typer.Option("--case", help="a case number; repeat for several")],
                  map_: Annotated[list[str] | None, typer.Option(
                      "--map", help="old_state=new_state; repeat; unmapped states keep their name")] = None,
                  apply_: Annotated[bool, typer.Option("--apply", help="carry it out (default: dry run)")] = False,
                  reason: Annotated[str, typer.Option(help="recorded in each case's history")] = "",
                  database_url: DbOption = None) -> None:
    """将运行中的案件迁移到流程的另一版本 / move running cases to another version of their workflow
    (a dry run unless --apply; moving back is the same command towards the earlier version)."""
    from engine import migration
    from engine.cases import SYSTEM, Cases
    from engine.errors import EngineError

    mapping = {}
    for item in map_ or []:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise typer.BadParameter(f"{item!r} is not old_state=new_state")
        mapping[old.strip()] = new.strip()
    cases = Cases(_database(database_url))
    try:
        with cases.db.write() as conn:
            plan = migration.plan(cases, conn, task_force=task_force, workflow=workflow, to_version=to_version,
                                  numbers=case, mapping=mapping)
            typer.echo(plan.render())
            if plan.problems:
                typer.echo(f"refused: {len(plan.problems)} case(s) would be stranded; nothing moved", err=True)
                raise typer.Exit(2)
            if not apply_:
                typer.echo(f"dry run: {len(plan.moves)} case(s) would move; add --apply to move them")
                return
            moved = migration.apply(cases, conn, plan, SYSTEM, reason)
    except EngineError as exc:
        _refused(exc)
    typer.echo(f"moved {len(moved)} case(s) to {workflow} version {to_version}")


AttachmentsOption = Annotated[str | None, typer.Option(
    "--attachments-dir", help="the attachments folder; default GONGZHI_ATTACHMENTS_DIR or GONGZHI_DATA_DIR/attachments")]


def _attachments_dir(given: str | None):
    from pathlib import Path

    return Path(given).resolve() if given else get_settings().resolved_attachments_dir()


@app.command()
def backup(dest: Annotated[str, typer.Argument(help="a new or empty folder to write the backup into")],
           database_url: DbOption = None, attachments_dir: AttachmentsOption = None) -> None:
    """备份数据库与附件（服务运行中亦可）/ back up the database and the attachments, while the server runs."""
    from pathlib import Path

    from api.backup import BackupError
    from api.backup import backup as run_backup

    url = database_url or get_settings().resolved_database_url()
    try:
        report = run_backup(url, _attachments_dir(attachments_dir), Path(dest))
    except BackupError as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"备份完成 backed up: {report.backend} database to {report.database_file}, "
               f"{report.attachments} attachment files ({report.attachment_bytes} bytes)")


@app.command()
def restore(source: Annotated[str, typer.Argument(help="a folder `gongzhi backup` wrote")],
            force: Annotated[bool, typer.Option("--force", help="replace an existing database")] = False,
            database_url: DbOption = None, attachments_dir: AttachmentsOption = None) -> None:
    """从备份恢复（先停止服务与后台进程）/ restore a backup; stop the servers and workers first."""
    from pathlib import Path

    from api.backup import BackupError
    from api.backup import restore as run_restore

    url = database_url or get_settings().resolved_database_url()
    try:
        report = run_restore(Path(source), url, _attachments_dir(attachments_dir), force=force)
    except BackupError as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"恢复完成 restored: {report.backend} database from {report.database_file}, "
               f"{report.attachments} attachment files copied; run `gongzhi verify` to check it")

# ---- notification channels (api/notify/): where notices are also sent besides the product itself

channel_app = typer.Typer(help="通知渠道 / notification channels (e-mail, 企业微信, 钉钉, webhook)", no_args_is_help=True)
app.add_typer(channel_app, name="channel")


@channel_app.command("add")
def channel_add(kind: Annotated[str, typer.Option("--kind", help="email | wecom | dingtalk | webhook")],
                target: Annotated[str, typer.Option("--target", help="an e-mail address or the robot's / webhook's URL")],
                unit: Annotated[str | None, typer.Option("--unit", help="the unit code whose notices it carries")] = None,
                user: Annotated[str | None, typer.Option("--user", help="the username whose notices it carries")] = None,
                secret: Annotated[str | None, typer.Option("--secret", help="钉钉's signing secret (SEC…), or a webhook's HMAC key")] = None,
                database_url: DbOption = None) -> None:
    """新增通知渠道 / add a channel for a unit or an account."""
    from api.notify.manage import ChannelRefused, add_channel
    from engine.clock import SystemClock

    if (unit is None) == (user is None):
        raise typer.BadParameter("give exactly one of --unit CODE or --user USERNAME")
    db = _database(database_url)
    try:
        with db.write() as conn:
            channel_id = add_channel(conn, owner_kind="unit" if unit else "user", owner=unit or user, kind=kind,
                                     target=target, secret=secret, now=SystemClock().now())
    except ChannelRefused as exc:
        for field, message in exc.errors.items():
            typer.echo(f"refused: {field}: {message}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"channel {channel_id}: {kind} for {'unit' if unit else 'user'} {unit or user}")


@channel_app.command("list")
def channel_list(unit: Annotated[list[str] | None, typer.Option("--unit", help="only this unit's (repeat)")] = None,
                 user: Annotated[list[str] | None, typer.Option("--user", help="only this account's (repeat)")] = None,
                 database_url: DbOption = None) -> None:
    """列出通知渠道 / list channels (targets' keys are shortened)."""
    from api.notify.channels import shown_target
    from db.repositories import channels as repo

    db = _database(database_url)
    with db.read() as conn:
        rows = repo.of_owners(conn, unit or [], user or []) if (unit or user) else repo.all_channels(conn)
    for r in rows:
        state = "enabled" if r.enabled else "disabled"
        signed = " signed" if r.secret else ""
        typer.echo(f"{r.id:>5}  {r.owner_kind}:{r.owner:<20} {r.kind:<9} {state:<9}{signed}  {shown_target(r.kind, r.target)}")
    typer.echo(f"{len(rows)} channel(s)")


@channel_app.command("disable")
def channel_disable(channel_id: Annotated[int, typer.Argument(help="the id `channel list` shows")],
                    database_url: DbOption = None) -> None:
    """停用通知渠道 / disable a channel (notices queued for it are given up, recorded)."""
    from db.repositories import channels as repo

    with _database(database_url).write() as conn:
        found = repo.set_enabled(conn, channel_id, False)
    if not found:
        typer.echo(f"no channel {channel_id}", err=True)
        raise typer.Exit(2)
    typer.echo(f"channel {channel_id} disabled")


@channel_app.command("test")
def channel_test(channel_id: Annotated[int, typer.Argument(help="the id `channel list` shows")],
                 database_url: DbOption = None) -> None:
    """发送测试消息 / send a test message over a channel now (quiet hours and the daily cap do not apply)."""
    from api.notify.delivery import send_test
    from engine.clock import SystemClock

    result = send_test(_database(database_url), SystemClock(), get_settings(), channel_id)
    if result is None:
        typer.echo(f"no channel {channel_id}", err=True)
        raise typer.Exit(2)
    typer.echo(("sent: " if result.ok else "failed: ") + result.detail)
    if not result.ok:
        raise typer.Exit(1)

def _fields_given(pairs: list[str], option: str) -> dict[str, list[str]]:
    """--field k=v pairs, a key given twice collects a list (several units, several choices)."""
    out: dict[str, list[str]] = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not name=value", param_hint=option)
        out.setdefault(key.strip(), []).append(value)
    return out


@app.command("fire")
def fire_cmd(case: Annotated[str, typer.Argument(help="the case number (工单-2026-0001) or id")],
             event: Annotated[str, typer.Argument(help="the event's name, e.g. assign")],
             as_: Annotated[str, typer.Option("--as", help="the username of the account that acts")],
             field: Annotated[list[str] | None, typer.Option(
                 "--field", help="name=value, read as the page form reads it (date 2026-03-01, unit code, "
                                 "true); repeat a name for a list")] = None,
             json_field: Annotated[list[str] | None, typer.Option(
                 "--json-field", help="name=JSON, taken as it is (e.g. items=[{...}])")] = None,
             database_url: DbOption = None) -> None:
    """以某账号的名义办理一个操作（更正用）/ fire an event as an account would, through the same checks as
    the API; a refusal exits 2 with the engine's reason."""
    import json

    from api.accounts import viewer_of
    from api.errors import _engine_zh  # the one Chinese wording of each refusal, as the API answers it
    from api.pages.forms import REQUIRED, parse
    from db.repositories import accounts as accounts_repo
    from db.repositories import cases as cases_repo
    from engine.access import CaseAccess
    from engine.calendar_sync import sync_calendar
    from engine.cases import Cases
    from engine.errors import EngineError, NotFound

    def refuse(zh: str, en: str) -> None:
        typer.echo(f"拒绝：{zh}\nrefused: {en}", err=True)
        raise typer.Exit(2)

    db = _database(database_url)
    raw = _fields_given(field or [], "--field")
    given_json: dict[str, object] = {}
    for key, values in _fields_given(json_field or [], "--json-field").items():
        try:
            given_json[key] = json.loads(values[-1])
        except ValueError as exc:
            raise typer.BadParameter(f"{key}: not JSON ({exc})", param_hint="--json-field") from None
    cases = Cases(db)
    sync_calendar(cases)
    try:
        # One unit of work: the account, the case and the definition the fields are read against are
        # read in the transaction that fires, and the case is shown as that transaction left it.
        with db.write() as conn:
            found = accounts_repo.by_username(conn, as_)
            if found is None:
                refuse(f"没有名为 {as_} 的有效账号", f"no active account {as_!r}")
            access = CaseAccess(cases, viewer_of(found[0]))
            if case.isdigit():
                case_id = int(case)
            else:
                ref = cases_repo.find_by_number(conn, case, access.viewer.task_force)
                case_id = ref.id if ref else 0
            try:
                record = access.record(conn, case_id)
            except NotFound:
                # Missing or not this account's to see: the same answer, as the API gives.
                refuse(f"未找到案件 {case}（不存在，或账号 {as_} 无权查看）",
                       f"case {case} not found (it does not exist, or {as_} may not see it)")
            d = access.machine(conn, record).definition
            spec = d.events.get(event)
            specs = [f for f in (spec.fields if spec else ()) if f.name not in given_json]
            known = {f.name for f in (spec.fields if spec else ())}
            unknown = sorted({k.split(".")[0] for k in [*raw, *given_json]} - known)
            if spec is not None and unknown:
                refuse(f"操作“{spec.title or event}”没有字段 {'、'.join(unknown)}；可填：{'、'.join(sorted(known)) or '无'}",
                       f"event {event!r} has no field {', '.join(unknown)}; its fields: "
                       f"{', '.join(sorted(known)) or 'none'}")
            payload, errors = parse(specs, {k: v if len(v) > 1 else v[0] for k, v in raw.items()})
            # A missing required field is the engine's to refuse, in its words, as it is for the API.
            errors = {k: v for k, v in errors.items() if v != REQUIRED}
            if errors:
                refuse("；".join(f"“{k}”{v}" for k, v in errors.items()),
                       "; ".join(f"field {k!r} cannot be read: {raw.get(k)}" for k in errors))
            access.fire(conn, record.id, event, {**payload, **given_json})
            after = access.record_after_acting(conn, record.id)
            d = access.machine(conn, after).definition
    except EngineError as exc:
        refuse(_engine_zh(exc), exc.message)
    title = spec.title or event
    typer.echo(f"已办理“{title}”：案件 {after.number} 现为“{d.states[after.state].title}”（第 {after.version} 版）")
    typer.echo(f"fired {event}: case {after.number} is now in state {after.state} (version {after.version})")


if __name__ == "__main__":
    app()
