"""Pages for everyone signed in: sign-in, a case with the forms for what I may do now, a new case."""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from api.accounts import SignInThrottled, csrf_for
from api.auth import CSRF_COOKIE, SESSION_COOKIE
from api.deps import Services
from api.notify.channels import shown_target
from api.pages import unit_work, views
from api.pages.forms import (
    DESCRIPTION_LIMIT,
    NUL,
    TITLE_LIMIT,
    parse,
    raw_values,
    text_error,
    version_of,
    widgets,
)
from api.pages.forms import Form as FormState
from api.pages.render import page
from api.pages.session import CSRF_FIELD, PageUser, PageUserDep, check_csrf
from api.read_receipts import record_first_read
from api.routes.accounts import source_of
from db.repositories import notices as notices_repo
from documents import excel, issuing
from engine.errors import BadPayload, EngineError, GuardFailed, NotFound
from engine.figures import InContext

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "gongzhi_login"
_LOGIN_TOKEN = re.compile(r"[A-Za-z0-9_\-]{32}")
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _services(request: Request) -> Services:
    return request.app.state.services


def _safe_next(target: str | None) -> str:
    # Only paths on this site: "//evil.example" would leave it.
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


def not_found(request: Request) -> HTMLResponse:
    """A case that does not exist and one I may not see read the same."""
    return page(request, "message.html", status=404, title="未找到", text="没有找到这件事项，或您无权查看。")


def _login_page(request: Request, *, status: int = 200, next: str = "/", username: str = "",
                error: str = "", retry_after: int | None = None) -> HTMLResponse:
    # A pre-session token, in a cookie and in the form (double submit): a page on another site can make
    # the browser post the form, but cannot read the cookie to copy it into the form — no login CSRF.
    sent = request.cookies.get(LOGIN_COOKIE, "")
    token = sent if _LOGIN_TOKEN.fullmatch(sent) else secrets.token_urlsafe(24)
    response = page(request, "login.html", status=status, me=None, next=_safe_next(next), username=username,
                    error=error, login_token=token)
    response.set_cookie(LOGIN_COOKIE, token, max_age=2 * 3600, path="/login", httponly=True,
                        secure=_services(request).settings.cookie_secure, samesite="strict")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _same_origin(request: Request) -> bool:
    """Whether the browser says the form came from this site (a client that is no browser says nothing).
    Only the host is compared with Origin: behind a TLS proxy the scheme seen here may differ."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> HTMLResponse:
    return _login_page(request, next=next)


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, username: Annotated[str, Form(max_length=100)] = "",
                 password: Annotated[str, Form(max_length=200)] = "",
                 next: Annotated[str, Form(max_length=2000)] = "/",
                 login_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    services = _services(request)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not (_same_origin(request) and cookie and hmac.compare_digest(cookie.encode(), login_token.encode())):
        return _login_page(request, status=403, next=next, error="登录页面已过期或来源不明，请在本页重新登录")
    signed = None
    if username and password:
        with services.db.write() as conn:  # the attempt is recorded whatever the answer
            signed = services.accounts.sign_in(conn, username, password, "cookie", services.clock.now(),
                                               source=source_of(request))
        if isinstance(signed, SignInThrottled):
            return _login_page(request, status=429, next=next, username=username, error=signed.message_zh,
                               retry_after=signed.retry_after)
    if signed is None:
        return _login_page(request, status=401, next=next, username=username,
                           error="用户名或密码错误" if username and password else "请填写用户名和密码")
    response = RedirectResponse(_safe_next(next), status_code=303)
    max_age = int((signed.expires_at - services.clock.now()).total_seconds())
    secure = services.settings.cookie_secure
    response.set_cookie(SESSION_COOKIE, signed.token, max_age=max_age, httponly=True, secure=secure, samesite="lax")
    response.set_cookie(CSRF_COOKIE, csrf_for(signed.token), max_age=max_age, httponly=False, secure=secure,
                        samesite="lax")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, user: PageUserDep, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(user, csrf_token)
    services = _services(request)
    with services.db.write() as conn:
        services.accounts.sign_out(conn, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


def _case_page(request: Request, user: PageUser, case_id: int, *, open_event: str = "",
               form: FormState | None = None, status: int = 200, notice: str = "",
               evidence_error: str = "", work_error: str = "") -> HTMLResponse:
    services = _services(request)
    try:
        with services.db.read() as conn:
            user.access.load(conn, case_id)
        documents = issuing.of_case(services.db, case_id)
        with services.db.read() as conn:
            case = views.case_page(conn, user.access, case_id, services.clock.now(), documents)
            told = notices_repo.notices_of_case(conn, case_id)
            sends = notices_repo.external_of_case(conn, case_id)
            work = unit_work.panel(conn, user.access, case_id)
            lookback = excel.keeps_lookbacks(user.access.machine(conn, user.access.record(conn, case_id)).definition)
            figures = _figures(conn, services, user, case_id)
    except NotFound:
        return not_found(request)
    return page(request, "case.html", status=status, case=case, open_event=open_event,
                form=form or FormState(), notice=notice, evidence_error=evidence_error, told=told, sends=sends,
                shown_target=shown_target, work=work, work_error=work_error, lookback=lookback, figures=figures)


def _figures(conn, services, user: PageUser, case_id: int) -> list[dict]:
    """The figures figures.yaml declares for cases of this workflow, computed now (none: nothing is read)."""
    row = user.access.load(conn, case_id)
    workflow = user.access.machine(conn, row).definition.name
    if not services.cases.figures.spec(conn, row.task_force_code).of(workflow):
        return []
    here = InContext(row.id, workflow, row.data, row.parties)
    return views.figure_rows(conn, services.cases.figures.table(conn, row.task_force_code, here))


@router.get("/case/{case_id}/print", response_class=HTMLResponse)
def case_print(request: Request, case_id: CaseId, user: PageUserDep) -> HTMLResponse:
    """The case's 办理单 for the paper file: facts, parties, deadlines and everything done, in order."""
    services = _services(request)
    try:
        with services.db.read() as conn:
            case = views.case_page(conn, user.access, case_id, services.clock.now(), [])
    except NotFound:
        return not_found(request)
    return page(request, "print.html", case=case, now=services.clock.now())


# What a redirect after a form may say it did: an event of the case (shown by its title) or these.
_DONE = {"created": "新建", "evidence": "上传证据材料", "assigned": "分办", "claimed": "认领", "shared": "抄送"}


@router.get("/case/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: CaseId, user: PageUserDep,
              done: Annotated[str, Query(max_length=60)] = "") -> HTMLResponse:
    # Only names the page itself knows are shown: a link cannot make the page say anything else.
    notice = ""
    record_first_read(_services(request).db, user.access, case_id)  # 已阅: a shared unit's reader, the first time
    if done:
        services = _services(request)
        with services.db.read() as conn:
            try:
                record = user.access.record(conn, case_id)
            except NotFound:
                return not_found(request)
            events = user.access.machine(conn, record).definition.events
        title = events[done].title if done in events else _DONE.get(done)
        notice = f"已办理：{title}" if title else ""
    return _case_page(request, user, case_id, notice=notice)


def _refusal(err: EngineError) -> tuple[str, dict[str, str]]:
    """The message at the top of the form and, when the engine names a field, beside it."""
    if isinstance(err, BadPayload):
        reason = getattr(err, "reason_zh", err.reason)  # a naming refusal says it in Chinese
        return f"{err.message_zh}：{reason}", {err.field: reason}
    if isinstance(err, GuardFailed):
        return f"{err.message_zh}：{err.reason}", {}
    return f"{getattr(err, 'message_zh', '操作未完成')}（{err}）", {}


@router.post("/case/{case_id}/events/{event}", response_class=HTMLResponse)
async def fire(request: Request, case_id: CaseId, event: Annotated[str, Path(max_length=60)],
               user: PageUserDep) -> Response:
    raw = raw_values(await request.form())
    check_csrf(user, raw.pop(CSRF_FIELD, None))
    return await run_in_threadpool(_fire, request, user, case_id, event, raw)


def _fire(request: Request, user: PageUser, case_id: int, event: str, raw: dict) -> Response:
    services = _services(request)
    spec = None
    state = FormState(values=raw)
    try:
        # One unit of work: the case and its definition are read in the transaction that fires, so the
        # form is judged against the case the event is applied to. A refused form commits nothing.
        with services.db.write() as conn:
            record = user.access.record(conn, case_id)
            d = user.access.machine(conn, record).definition
            if event not in d.events:
                raise NotFound(f"event {event!r} not found", event=event)
            spec = d.events[event]
            payload, state.errors = parse(spec.fields, raw)
            version, good_version = version_of(raw)
            if not good_version:
                state.message = "页面已过期，请刷新后重试"
            elif state.errors:
                state.message = "请补充或更正标注的内容"
            else:
                user.access.fire(conn, case_id, event, payload, expected_version=version)
    except NotFound:
        return not_found(request)
    except EngineError as err:
        assert spec is not None  # the engine refuses only once the event is known
        state.message, state.errors = _refusal(err)
        state.title = spec.title or event
        titles = {f.name: f.title or f.name for f in spec.fields}
        state.typed = [(titles.get(k.split(".")[0], k), v if isinstance(v, str) else "、".join(v))
                       for k, v in raw.items() if k != "version" and v not in ("", [])]
        return _case_page(request, user, case_id, open_event=event, form=state, status=422)
    if state.message:
        return _case_page(request, user, case_id, open_event=event, form=state, status=422)
    return RedirectResponse(f"/case/{case_id}?done={event}", status_code=303)


@router.get("/new/{workflow}", response_class=HTMLResponse)
def new_case(request: Request, workflow: Annotated[str, Path(max_length=60)], user: PageUserDep) -> HTMLResponse:
    return _new_page(request, user, workflow, FormState())


def _new_page(request: Request, user: PageUser, workflow: str, form: FormState, status: int = 200) -> HTMLResponse:
    services = _services(request)
    with services.db.read() as conn:
        d = views.definition_of(conn, user.access, workflow)
        if d is None or not set(d.create.roles) & user.viewer.roles:
            return not_found(request)
        org = views.Organisation(conn, user.viewer.task_force)
    # The party owing a deadline that starts with the case (a meeting's organiser) is chosen on opening it.
    owners = dict.fromkeys(d.deadlines[n].owner for n in d.create.deadlines.start if d.deadlines[n].owner)
    party_roles = [(r, d.roles[r].title) for r in owners if r in d.roles and d.roles[r].kind == "party"]
    return page(request, "new.html", status=status, workflow=workflow, title=d.title, party_roles=party_roles,
                fields=widgets(d.create.fields), form=form, units=org.unit_groups())


@router.post("/new/{workflow}", response_class=HTMLResponse)
async def new_case_submit(request: Request, workflow: Annotated[str, Path(max_length=60)],
                          user: PageUserDep) -> Response:
    raw = raw_values(await request.form())
    check_csrf(user, raw.pop(CSRF_FIELD, None))
    return await run_in_threadpool(_create, request, user, workflow, raw)


def _create(request: Request, user: PageUser, workflow: str, raw: dict) -> Response:
    services = _services(request)
    title = str(raw.get("title", "")).strip()
    description = str(raw.get("description", ""))
    case, state = None, None
    try:
        # One unit of work: the definition the form is judged against is the one the case opens under.
        # A refused form commits nothing; its page is drawn after the transaction.
        with services.db.write() as conn:
            d = views.definition_of(conn, user.access, workflow)
            if d is None or not set(d.create.roles) & user.viewer.roles:
                raise NotFound(f"workflow {workflow!r} not found", workflow=workflow)
            payload, state = _creation_form(d, raw, title, description)
            if not state.message:
                parties = {}
                if raw.get("party_role") and raw.get("party_unit"):
                    parties[str(raw["party_role"])] = [str(raw["party_unit"])]
                case = user.access.start(conn, workflow=workflow, title=title, description=description,
                                         payload=payload, parties=parties or None)
    except EngineError as err:
        if state is None:  # no workflow of that name this viewer may open
            return not_found(request)
        state.message, state.errors = _refusal(err)
        return _new_page(request, user, workflow, state, 422)
    if case is None:
        return _new_page(request, user, workflow, state, 422)
    return RedirectResponse(f"/case/{case.id}?done=created", status_code=303)


def _creation_form(d, raw: dict, title: str, description: str) -> tuple[dict, FormState]:
    """The payload a new-case form carries, and the form with its errors marked (a message when any)."""
    payload, errors = parse(d.create.fields, raw)
    # The checks POST /cases makes (api/schemas/cases.py), so a page stores nothing the API would refuse.
    if not title:
        errors["title"] = "此项必填"
    elif error := text_error(title, TITLE_LIMIT):
        errors["title"] = error
    if error := text_error(description, DESCRIPTION_LIMIT):
        errors["description"] = error
    for key in ("party_role", "party_unit"):
        if "\x00" in str(raw.get(key, "")):
            errors[key] = NUL
    state = FormState(values=raw, errors=errors)
    if errors:
        # The form marks its fields; the description and the party pickers are named in the message.
        named = [f"{label}{errors[key]}" for key, label in (("description", "说明"), ("party_role", "承办单位"),
                                                            ("party_unit", "承办单位")) if key in errors]
        state.message = "；".join(["请补充或更正标注的内容", *dict.fromkeys(named)])
    return payload, state


@router.post("/case/{case_id}/evidence", response_class=HTMLResponse)
async def add_evidence(request: Request, case_id: CaseId, user: PageUserDep) -> Response:
    # The body is read only once the session is known (declared File() parameters are read first).
    form = await request.form(max_files=1, max_fields=10)
    check_csrf(user, form.get(CSRF_FIELD) if isinstance(form.get(CSRF_FIELD), str) else None)
    file, description = form.get("file"), form.get("description", "")
    refused = ("请选择要上传的文件" if not isinstance(file, StarletteUpload) else
               "说明：请填写文字" if not isinstance(description, str) else
               f"说明：{error}" if (error := text_error(description, 500)) else "")
    if refused:
        return await run_in_threadpool(_case_page, request, user, case_id, status=422, evidence_error=refused)
    return await run_in_threadpool(_add_evidence, request, user, case_id, file, description)


def _add_evidence(request: Request, user: PageUser, case_id: int, file: StarletteUpload,
                  description: str) -> Response:
    services = _services(request)
    try:
        received = services.attachments.receive(file.file, file.filename)
    except EngineError as err:
        return _case_page(request, user, case_id, status=422, evidence_error=_refusal(err)[0])
    try:
        with services.db.write() as conn:
            services.attachments.add(conn, user.access, case_id, received, description)
    except NotFound:
        return not_found(request)
    except EngineError as err:
        return _case_page(request, user, case_id, status=422, evidence_error=_refusal(err)[0])
    finally:
        received.discard()  # already moved to its place when kept
    return RedirectResponse(f"/case/{case_id}?done=evidence", status_code=303)
