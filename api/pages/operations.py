"""运行状态: the office's view of the background work — heartbeats, failures kept for retry, documents
and notices not yet out, the timer most overdue. Read from the same rows /ready and /metrics read."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.metrics import latency_summary
from api.pages.office import OfficeUserDep
from api.pages.render import page
from db.repositories import cases as cases_repo
from db.repositories import operations as repo
from documents.contexts import kinds

router = APIRouter(include_in_schema=False)

# The background tasks of api/background.py, in words; a task not listed shows its own name.
TASKS = {"clock": "时钟（周期性工作与计时器）", "documents": "公文出具", "notices": "消息推送"}
TIMER_ACTIONS = {"warn": "到期提醒", "expire": "到期"}
CHANNELS = {"email": "电子邮件", "wecom": "企业微信", "dingtalk": "钉钉", "webhook": "Webhook"}


def _age(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds}秒前"
    if seconds < 3600:
        return f"{seconds // 60}分钟前"
    if seconds < 86400:
        return f"{seconds // 3600}小时{seconds % 3600 // 60}分钟前"
    return f"{seconds // 86400}天前"


def _deadline_title(conn, services, timer: repo.DueTimer) -> str:
    """The timer's deadline as its case's definition titles it."""
    case = cases_repo.load(conn, timer.case_id)
    if case is None:
        return ""
    spec = services.cases.machine(conn, case.definition_id).definition.deadlines.get(timer.deadline)
    return spec.title if spec and spec.title else ""


@router.get("/office/operations", response_class=HTMLResponse)
def operations(request: Request, user: OfficeUserDep) -> HTMLResponse:
    services = request.app.state.services
    now, limit = services.clock.now(), services.settings.heartbeat_stale_seconds
    tf = user.viewer.task_force
    with services.db.read() as conn:
        beats = repo.heartbeats(conn)
        failures = repo.job_failures(conn, tf)
        documents = repo.outbox_backlog(conn, "document", tf)
        notices = repo.outbox_backlog(conn, "notice", tf)
        timer = repo.oldest_due_timer(conn, now, tf)
        deadline = _deadline_title(conn, services, timer) if timer and timer.deadline else ""
        events = repo.events_since(conn, now - timedelta(minutes=1))
    requests, p50, p95 = latency_summary()
    newest = {}
    for b in beats:  # newest first within a task
        newest.setdefault(b.task, b.beat_at)
    workers = [{"row": b, "task": TASKS.get(b.task, b.task), "age": _age((now - b.beat_at).total_seconds()),
                "stale": (now - b.beat_at).total_seconds() > limit, "newest": newest[b.task] == b.beat_at}
               for b in beats]
    stale_tasks = sorted(TASKS.get(t, t) for t, at in newest.items() if (now - at).total_seconds() > limit)
    return page(request, "operations.html", now=now, limit=limit, workers=workers, stale_tasks=stale_tasks,
                events=events, requests=requests, p50=p50, p95=p95,
                failures=[{"row": f, "task": TASKS.get(f.task, f.task)} for f in failures],
                documents=documents, notices=notices, channels=CHANNELS,
                document_titles={name: k.title for name, k in kinds().items()},
                timer=timer, timer_deadline=deadline, timer_action=TIMER_ACTIONS.get(timer.action, timer.action) if timer else "",
                timer_age=_age((now - timer.due_at).total_seconds()) if timer else "")
