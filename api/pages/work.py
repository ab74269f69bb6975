"""我的待办: the cases awaiting me, sorted and paged, 新到 since my last sitting, and the counters."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.pages import views
from api.pages.render import page
from api.pages.session import PageUserDep
from db.repositories import work_visits

router = APIRouter(include_in_schema=False)
PAGE = 50
OTHERS = 20  # the other open cases of my unit shown below the list; the rest are one link away
# Visits closer together than this are one sitting: 新到 stays marked while I page through the list.
SITTING = timedelta(minutes=30)


@router.get("/", response_class=HTMLResponse)
def my_work(request: Request, user: PageUserDep, sort: Annotated[str, Query(pattern=r"^(due|received|workflow)$")]
            = "due", p: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    services = request.app.state.services
    now = services.clock.now()
    since = None
    if user.me.user_id > 0:
        with services.db.write() as conn:
            since = work_visits.visit(conn, user.me.user_id, now, SITTING)
    with services.db.read() as conn:
        work = views.my_work(conn, user.access, now, sort=sort, page=p, per_page=PAGE, since=since)
        waiting = {w.case_id for w in work.items}
        others = [c for c in views.my_open_cases(conn, user.access, now, unit=user.viewer.unit, limit=OTHERS + PAGE)
                  if c["id"] not in waiting][:OTHERS]
        new = views.creatable(conn, user.access)
    pages = max(1, -(-work.total // PAGE))
    return page(request, "work.html", work=work, waiting=work.items, others=others, creatable=new, now=now,
                counts=work.counts, sort=sort, sorts=views.WORK_SORTS, p=p, pages=pages,
                first=(p - 1) * PAGE + 1, last=(p - 1) * PAGE + len(work.items), since=since)
