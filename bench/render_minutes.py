"""Issuing 3-page minutes through gongzhi, beside WeasyPrint rendering the same finished HTML alone.

gongzhi's path is what the outbox worker does for one item (documents.outbox.process_pending):
claim and lease the item, replay the case to the issuing history row, build the context, render the
HTML (Jinja2), lay it out and write the PDF (WeasyPrint), take the number and insert the archive
row, mark the item done. Each round issues the minutes of another meeting, so every round does the
whole job. "WeasyPrint alone" is HTML(...).render().write_pdf() on the HTML of the same document,
with the same fonts and URL fetcher. Cold is the first issue in the process (fonts loaded then);
warm rounds alternate the two, and the medians are compared.

    python bench/render_minutes.py [--rounds 15] [--decisions 6] [--pg URL]

Targets: warm < 0.3 s, PDF < 200 KB. The meeting comes from tests/fixtures/docs (the workflow that
issues minutes in production is still being written).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT_DIR))

from backends import fresh_postgres  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from db.repositories import outbox  # noqa: E402
from db.repositories.documents import content  # noqa: E402
from db.session import Database  # noqa: E402
from documents import contexts, records, render  # noqa: E402
from documents.outbox import process_pending  # noqa: E402
from engine.bootstrap import init_database  # noqa: E402
from engine.cases import Cases  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.publishing import load_task_force  # noqa: E402
from tests.documents import scenarios  # noqa: E402
from workflows import ROOT  # noqa: E402


@contextmanager
def database_url(pg: str | None):
    """A temporary SQLite file, or a throwaway database on the given PostgreSQL server."""
    if pg is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    with fresh_postgres(pg) as url:
        yield url


def issue_next(db: Database, clock: FixedClock) -> bytes:
    """The worker issues the next queued document (one meeting's minutes); returns the PDF."""
    (_, document_id), = process_pending(db, clock, limit=1).issued
    with db.read() as conn:
        return content(conn, document_id)


def weasyprint_alone(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=render.BASE_URL, url_fetcher=render.PackagedFilesFetcher()).render(
        font_config=render._font_config()).write_pdf()


def timed(fn, *args) -> tuple[float, bytes]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--decisions", type=int, default=6, help="decisions on the minutes (6 make 3 pages)")
    parser.add_argument("--pg", help="a PostgreSQL server to use instead of a temporary SQLite database "
                                         "(a throwaway database is created there and dropped)")
    args = parser.parse_args()

    with database_url(args.pg) as url:
        db = Database(url)
        started = time.perf_counter()
        init_database(db, ROOT)
        with db.write() as conn:
            load_task_force(conn, ROOT_DIR / "tests" / "fixtures" / "docs", FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
        clock = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), step=timedelta(seconds=1))
        cases = Cases(db, clock)
        meetings = [scenarios.meeting(cases, decisions=args.decisions) for _ in range(args.rounds + 1)]
        # Only the minutes are measured: the meeting notices are set aside unrendered, so that the
        # first render in the process is the cold one.
        with db.write() as conn:
            for item in outbox.claim(conn, "document", clock.now(), limit=10 * len(meetings)):
                if item.payload["kind"] != "minutes":
                    outbox.complete(conn, item.id, clock.now())
        print(f"setup (migrate, load, {len(meetings)} meetings moved through the engine): "
              f"{time.perf_counter() - started:.2f} s")

        cold, pdf = timed(issue_next, db, clock)
        case = meetings[0]
        with db.read() as conn:
            record = records.load(conn, case.id, case.version)
        html = render.render_html("minutes", contexts.build(
            "minutes", record, contexts.Issue("联动专班办纪〔2026〕1号", record.issued_on)))

        ours, alone = [], []
        for i in range(args.rounds):
            order = [(ours, issue_next, (db, clock)), (alone, weasyprint_alone, (html,))]
            for sink, fn, fn_args in order if i % 2 == 0 else reversed(order):
                sink.append(timed(fn, *fn_args)[0])
        db.dispose()

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    warm, bare = statistics.median(ours), statistics.median(alone)
    print(f"minutes: {pages} pages, {args.decisions} decisions, PDF {len(pdf) / 1024:.0f} KiB "
          f"({len(pdf):,} bytes; target < 200 KB)")
    print(f"gongzhi issue, cold (first in process, fonts loaded): {cold:.3f} s")
    print(f"gongzhi issue, warm: median {warm:.3f} s, min {min(ours):.3f} s over {args.rounds} (target < 0.3 s)")
    print(f"WeasyPrint alone, same HTML, warm: median {bare:.3f} s, min {min(alone):.3f} s")
    print(f"gongzhi's own share (outbox claim and completion, record replay, context, Jinja2, numbering, "
          f"archive row): "
          f"{warm - bare:.3f} s = {(warm - bare) / warm:.0%} of the warm issue")


if __name__ == "__main__":
    main()
