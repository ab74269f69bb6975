"""我的待办, the filtered case list and full-text search at 100k cases and 1M history rows; and the
Excel export of 10k rows — on SQLite and PostgreSQL.

Fills a fresh database through Core (bench/overdue_query.fill: referrals, 40% open, ten history rows
each), then times what the pages run: 我的待办's first page of 50 for the unit that receives the most
(views.my_work: the candidate query, guards judged, one page drawn), the office's case list with two
filters (workflow and unit), a full-text search of a three-character word, a member unit's own case
list, a two-character word (no index serves it: a scan), and the export of 10k rows
(case list query + documents.excel.workbook). Prints median and p95 of repeated runs (target p95 < 100 ms).

    python bench/inbox_search.py [--cases 100000] [--history-per-case 10] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from api.pages.views import my_work  # noqa: E402
from bench.backends import each_backend, timed  # noqa: E402
from bench.overdue_query import fill  # noqa: E402
from db.models import Case, CaseParty  # noqa: E402
from db.repositories.case_queries import CaseFilter  # noqa: E402
from db.session import Database  # noqa: E402
from documents.excel import workbook  # noqa: E402
from engine.access import CaseAccess, Viewer  # noqa: E402
from engine.bootstrap import init_database  # noqa: E402
from engine.cases import Cases  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from workflows import ROOT  # noqa: E402

NOW = datetime(2026, 9, 1, tzinfo=UTC)
OFFICE = Viewer("bench:office", "专班办公室", "two_lakes_office", "two_lakes", frozenset({"office", "office_head"}),
                office=True)


def measure(db: Database, repeats: int) -> list[tuple[str, float, float, str]]:
    cases = Cases(db, FixedClock(NOW))
    with db.read() as conn:
        busiest = conn.execute(
            select(CaseParty.unit_code, func.count()).join(Case, Case.id == CaseParty.case_id)
            .where(~Case.closed, CaseParty.role == "receiver").group_by(CaseParty.unit_code)
            .order_by(func.count().desc())).first()[0]
    unit = CaseAccess(cases, Viewer("bench:unit", busiest, busiest, "two_lakes", frozenset({"member"})))
    office = CaseAccess(cases, OFFICE)
    out = []
    with db.engine.connect() as conn:
        def inbox():
            return my_work(conn, unit, NOW, page=1, per_page=50)

        def listing():
            return office.search(conn, CaseFilter(workflow="referral", unit=busiest, closed=False), NOW)

        def search():
            return office.search(conn, CaseFilter(q="案件4242"), NOW)

        def member_list():  # a member unit's 综合查询: the cases it may read, open referrals
            return unit.search(conn, CaseFilter(workflow="referral", closed=False), NOW)

        def two_characters():  # below the trigram index's three characters: a scan of the text
            return office.search(conn, CaseFilter(q="网箱"), NOW)

        def export():
            records, _ = office.search(conn, CaseFilter(closed=False, sort="due_at", limit=10_000), NOW)
            rows = [[r.number, r.title, r.workflow, r.state, "、".join(u for us in r.parties.values() for u in us),
                     r.due_at.date().isoformat() if r.due_at else ""] for r in records]
            return workbook("案件清单", ["编号", "事项", "类型", "状态", "相关单位", "期限"], rows, [18, 40, 16, 14, 36, 16]), \
                len(rows)

        median, p95, page = timed(inbox, repeats)
        out.append(("我的待办 (page of 50)", median, p95, f"{page.total} awaited, {len(page.items)} shown"))
        median, p95, (rows, total) = timed(listing, repeats)
        out.append(("case list, 2 filters", median, p95, f"{total} match, {len(rows)} shown"))
        median, p95, (rows, total) = timed(search, repeats)
        out.append(("full-text search", median, p95, f"{total} match"))
        median, p95, (rows, total) = timed(member_list, repeats)
        out.append(("member's case list", median, p95, f"{total} match, {len(rows)} shown"))
        median, p95, (rows, total) = timed(two_characters, max(3, repeats // 4))
        out.append(("two-character word", median, p95, f"{total} match"))
        median, p95, (data, n) = timed(export, max(3, repeats // 10))
        out.append(("export 10k rows", median, p95, f"{n} rows, {len(data) // 1024} KiB"))
    return out


def run(name: str, url: str, args) -> list[tuple]:
    db = Database(url)
    init_database(db, ROOT)
    t = time.perf_counter()
    fill(db, args.cases, args.history_per_case)
    filled = time.perf_counter() - t
    print(f"{name}: filled {args.cases} cases, {args.cases * args.history_per_case} history rows in {filled:.0f} s",
          flush=True)
    rows = measure(db, args.repeats)
    db.dispose()
    return [(name, *r) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--history-per-case", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=40)
    ap.add_argument("--pg", default=os.environ.get("GONGZHI_TEST_PG_URL",
                                                  "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    rows = []
    for name, url in each_backend(args.pg, args.only):
        rows += run(name, url, args)
    print(f"{'database':<11} {'what':<24} {'median ms':>10} {'p95 ms':>8}  rows")
    for name, what, median, p95, note in rows:
        print(f"{name:<11} {what:<24} {median:>10.1f} {p95:>8.1f}  {note}")


if __name__ == "__main__":
    main()
