"""GB/T 9704 layout points measured on rendered PDFs: full pages of 22 lines, the 版记 on an even
page, landscape attachments turned with their page number at the foot, the letter's 抄送 at the foot."""

from __future__ import annotations

import io

import pypdf
import pytest
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from documents import render
from tests.documents.pdfs import DPI, MM_PER_INCH, bands, is_ink, mm, page_image, page_texts, squash
from tests.documents.test_render import long_table, notice_context

SHORT = "各单位报送，电话。"  # one line
TWO_LINES = "各成员单位要按照职责分工，认真做好第一季度问题整改工作，确保按期完成并及时报送进展情况。"


def body_lines(kind: str, context: dict) -> list[list[float]]:
    """Per page, the tops (mm) of the text lines in the main flow (no margin boxes, no 版记)."""
    html = render.render_html(kind, context)
    document = HTML(string=html, base_url=render.BASE_URL, url_fetcher=render.PackagedFilesFetcher()).render(
        font_config=render._font_config())
    pages = []
    for page in document.pages:
        tops: list[float] = []

        def walk(box: object, tops: list[float] = tops) -> None:
            if isinstance(box, boxes.MarginBox | boxes.FootnoteAreaBox):
                return
            if isinstance(box, boxes.LineBox):
                tops.append(box.position_y * 25.4 / 96)
                return
            for child in getattr(box, "children", ()):
                walk(child)

        walk(page._page_box)
        pages.append(tops)
    return pages


def test_pages_of_short_paragraphs_hold_22_lines() -> None:
    # One- and two-line paragraphs: a two-line one that starts on line 22 splits, not moves.
    paragraphs = [SHORT, TWO_LINES, SHORT, SHORT, TWO_LINES] * 12
    pages = body_lines("notice", notice_context(paragraphs=paragraphs, attachments=[]))
    assert len(pages) >= 4
    for tops in pages[1:-1]:  # the full pages between the first and the last
        assert len(tops) == 22, tops
        assert tops[0] == pytest.approx(37, abs=0.1)
        pitches = {round(b - a, 2) for a, b in zip(tops, tops[1:], strict=False)}
        assert pitches == {10.21}, pitches  # 28.95 pt: no drift
        assert tops[-1] + 10.21 <= 262 + 0.1


def banji_page(pdf: bytes) -> int:
    texts = page_texts(pdf)
    return next(i for i, text in enumerate(texts, start=1) if "印发" in text or "抄送：" in squash(text))


def test_banji_of_a_three_page_notice_moves_to_the_back_of_page_3() -> None:
    pdf = render.render_pdf("notice", notice_context(paragraphs=[SHORT] * 40))
    texts = page_texts(pdf)
    assert len(texts) == 4 and banji_page(pdf) == 4
    assert "2026年3月1日" in texts[2] and "印发" not in texts[2]  # the 落款 stays on page 3
    assert squash(texts[3]).startswith("抄送：")
    assert "— 4 —" in texts[3]  # no blank page before it: numbered
    # The last rule still sits on the bottom of the 版心 (262 mm).
    image = page_image(pdf, 4)
    px = image.load()
    width, height = image.size
    ink = [y for y in range(height) if any(is_ink(px[x, y]) for x in range(0, width, 2))]
    lowest_rule = [band for band in bands(ink) if mm(band[0]) < 262 + 1][-1]
    assert mm(lowest_rule[1]) == pytest.approx(262, abs=1)


def test_banji_alone_on_an_odd_page_goes_after_a_blank_page_and_neither_is_numbered() -> None:
    annex = {"label": "附件", "title": "问题清单", "landscape": True, "table": long_table(30)}
    pdf = render.render_pdf("notice", notice_context(annexes=[annex], paragraphs=[SHORT] * 3))
    texts = page_texts(pdf)
    # 1 notice, 2-4 the landscape list, 5 blank, 6 the 版记.
    assert len(texts) == 6 and banji_page(pdf) == 6
    assert squash(texts[4]) == ""
    assert "—" not in texts[5] and "抄送：" in squash(texts[5])


def test_banji_on_an_even_page_stays_there() -> None:
    pdf = render.render_pdf("notice", notice_context(paragraphs=[SHORT] * 20))
    assert len(page_texts(pdf)) == 2 and banji_page(pdf) == 2 and "— 2 —" in page_texts(pdf)[1]


def test_minutes_banji_moves_to_an_even_page_too() -> None:
    context = notice_context(paragraphs=[SHORT] * 40, decisions=["各单位按期完成。"],
                             attendance=[["出席", "甲市水务局"]], title="专题会议纪要", issuer_mark="联动专班会议纪要",
                             signature="联动专班办公室")
    pdf = render.render_pdf("minutes", context)
    texts = page_texts(pdf)
    assert len(texts) % 2 == 0 and banji_page(pdf) == len(texts)
    assert squash(texts[-1]).startswith("分送：")
    assert sum("分送：" in squash(t) for t in texts) == 1


# ---- landscape attachments ------------------------------------------------------------------------

LANDSCAPE_TITLE = "甲乙两市跨界饮用水水源地环境问题整改方案问题清单及责任分工"  # 29 characters


@pytest.fixture(scope="module")
def landscape_pdf() -> bytes:
    assert len(LANDSCAPE_TITLE) == 29
    annex = {"label": "附件", "title": LANDSCAPE_TITLE, "landscape": True, "table": long_table(30)}
    return render.render_pdf("notice", notice_context(annexes=[annex], paragraphs=[SHORT] * 3))


def test_landscape_pages_are_turned_with_the_table_head_on_the_left(landscape_pdf: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(landscape_pdf))
    turned = [i for i, page in enumerate(reader.pages, start=1) if page.mediabox.width > page.mediabox.height]
    assert turned == [2, 3, 4]
    assert [reader.pages[i - 1].get("/Rotate") for i in turned] == [270, 270, 270]
    # Seen as a portrait sheet, the 序号 column (first in a table row) is at the top and the table's
    # head row at the left edge: the ink of page 3 starts in the left third.
    image = page_image(landscape_pdf, 3)
    assert image.size[0] < image.size[1]  # shown portrait


@pytest.mark.parametrize("page", [2, 3, 4])
def test_landscape_page_number_sits_where_portrait_ones_do(landscape_pdf: bytes, page: int) -> None:
    image = page_image(landscape_pdf, page)
    px = image.load()
    width, height = image.size
    assert mm(width) == pytest.approx(210, abs=0.5)
    below = [y for y in range(int(262 / MM_PER_INCH * DPI) + 2, height) if any(is_ink(px[x, y]) for x in range(width))]
    top, bottom = bands(below)[0]
    assert mm((top + bottom) / 2) == pytest.approx(262 + 7, abs=1.5)
    assert mm(bottom - top) < 6  # upright: one line of 14 pt, not a turned column of characters
    xs = [x for y in range(top, bottom + 1) for x in range(width) if is_ink(px[x, y])]
    if page % 2:
        assert mm(max(xs)) == pytest.approx(184 - 4.9, abs=1.5)
    else:
        assert mm(min(xs)) == pytest.approx(28 + 4.9, abs=1.5)
    assert f"— {page} —" in page_texts(landscape_pdf)[page - 1]


def test_landscape_title_breaks_without_leaving_one_character(landscape_pdf: bytes) -> None:
    lines = [line.strip() for line in page_texts(landscape_pdf)[1].splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("甲乙两市"))
    title = [lines[start], lines[start + 1]]
    assert "".join(title) == LANDSCAPE_TITLE
    assert min(len(line) for line in title) >= 10, title


# ---- the letter ----------------------------------------------------------------------------------


@pytest.mark.parametrize("paragraphs", [1, 14])
def test_letter_copy_to_sits_at_the_foot_of_the_page(paragraphs: int) -> None:
    context = notice_context(issuer_mark="两湖专班办公室", doc_number="两湖专班办函〔2026〕1号", attachments=[],
                             printer="", title="关于移送问题的函", paragraphs=["请于3月31日前反馈。"] * paragraphs)
    pdf = render.render_pdf("letter", context)
    last = len(page_texts(pdf))
    assert last == (1 if paragraphs == 1 else 2)  # page 1 of one: the 版记 stays on it
    image = page_image(pdf, last, dpi=100)
    px = image.load()
    width, height = image.size
    rows = [y for y in range(height) if any(is_ink(px[x, y]) and not px[x, y][0] > 170 + px[x, y][1]
                                            for x in range(0, width, 2))]
    lines = [(mm(a, 100), mm(b, 100)) for a, b in bands(rows) if mm(a, 100) < 263]  # not the page number
    # The two 抄送 lines (4号 on 24 pt) end on the bottom of the 版心 (262 mm; the ink of 14 pt type
    # ends 1.8 mm above its line box), far below the date.
    (_, cc_bottom), (cc2_top, _) = lines[-1], lines[-2]
    assert cc_bottom == pytest.approx(262 - 1.8, abs=1)
    assert "抄送：" in squash(page_texts(pdf)[last - 1])
    date_bottom = lines[-3][1]
    assert cc2_top - date_bottom > 20 if paragraphs == 1 else cc2_top > date_bottom
