"""Documents under hostile input: long unbroken strings stay inside the page, a document past the render
limits is refused at once (that item fails, not retried) and the queue goes on."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from db.models import OutboxItem
from documents import render
from documents.outbox import process_pending
from tests.documents import scenarios
from tests.documents.pdfs import mm, page_image, page_texts, squash
from tests.documents.test_render import notice_context

# GB/T 9704: 28 mm left margin and a 156 mm type area; the page is 210 mm wide.
TYPE_AREA_RIGHT_MM = 28 + 156


def _rightmost_ink_mm(pdf: bytes, page: int) -> float:
    img = page_image(pdf, page, dpi=100)
    px, (w, h) = img.load(), img.size
    right = max((x for y in range(0, h, 2) for x in range(w - 1, -1, -1) if sum(px[x, y]) < 300), default=0)
    return mm(right, dpi=100)


def test_a_long_unbroken_string_breaks_at_the_type_area_edge():
    url = "https://example.gov.cn/" + "a" * 400
    pdf = render.render_pdf("notice", notice_context(paragraphs=[url, "X" * 200]))
    assert _rightmost_ink_mm(pdf, 1) <= TYPE_AREA_RIGHT_MM + 1.0
    # Nothing is cut: every character is still in the text.
    text = squash("".join(page_texts(pdf)))
    assert url.removeprefix("https://") in text.replace("https://", "") and "X" * 200 in text


def test_a_document_past_the_text_limit_is_refused_before_layout():
    started = time.perf_counter()
    with pytest.raises(render.TooLarge):
        render.render_pdf("notice", notice_context(paragraphs=["字" * (render.MAX_TEXT_CHARS + 1)]))
    assert time.perf_counter() - started < 1.0  # refused, not laid out (a full render of that takes ~15 s)
    assert render.text_size({"a": ["ab", {"c": "def"}], "n": 3}) == 5


def test_a_too_large_document_fails_its_item_at_once_and_the_queue_goes_on(db, cases, clock, monkeypatch):
    case = scenarios.rectification(cases, problems=1)  # queues the rectification plan
    monkeypatch.setattr(render, "MAX_TEXT_CHARS", 10)  # any document is now past the limit
    outcome = process_pending(db, clock)
    assert outcome.issued == () and len(outcome.failed) == 1 and "TooLarge" in outcome.failed[0][1]
    with db.read() as conn:
        status, attempts = conn.execute(select(OutboxItem.status, OutboxItem.attempts)).one()
    assert (status, attempts) == ("failed", 1)  # it would be as large next time: not retried
    monkeypatch.undo()
    scenarios.circulate(cases, case)  # the next document is issued as usual
    assert len(process_pending(db, clock).issued) == 1
