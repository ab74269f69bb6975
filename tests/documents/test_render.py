"""Rendering of 公文 with the real WeasyPrint: text, GB/T 9704 geometry, colour, fetcher, tables."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import socket

import pypdf
import pytest
from PIL import Image

from documents import render
from tests.documents.pdfs import (
    DPI,
    MM_PER_INCH,
    bands,
    is_black,
    is_ink,
    is_red,
    mm,
    page_image,
    page_texts,
    squash,
)

ISSUER_MARK = "贵阳贵安—安顺市“两湖”流域水资源环境保护治理联动工作专班办公室文件"
TITLE_LINES = ["关于召开2026年第一季度“两湖”流域", "保护治理联动专题会议的通知"]
FIRST_PARAGRAPH = (
    "为贯彻落实《贵阳贵安—安顺市“两湖”流域水资源环境保护治理联动机制》，研究部署第一季度"
    "联合排查发现问题的整改工作，经专班领导同意，定于近期召开专题会议。现将有关事项通知如下。"
)


def notice_context(**overrides: object) -> dict[str, object]:
    context: dict[str, object] = {
        "issuer_mark": ISSUER_MARK,
        "doc_number": "两湖专班办〔2026〕3号",
        "title": TITLE_LINES,
        # Fits on one line, so the first body line is the 4th text band below the red rule.
        "addressees": ["专班各成员单位"],
        "paragraphs": [
            FIRST_PARAGRAPH,
            {"level": 1, "text": "一、会议时间"},
            "2026年3月12日（星期四）上午9:30，会期半天。",
            {"level": 1, "text": "二、会议地点"},
            "贵阳市水务局（贵阳市两湖一库管理局）三楼会议室。",
            {"level": 2, "text": "（一）参会人员"},
            "各成员单位分管负责同志1名。",
        ],
        "attachments": ["参会回执"],
        "signature": "“两湖”流域联动工作专班办公室",
        "date": dt.date(2026, 3, 1),
        "copy_to": ["贵阳市人民政府办公厅", "安顺市人民政府办公室", "贵安新区管委会办公室"],
        "printer": "“两湖”流域联动工作专班办公室",
        "printed_on": dt.date(2026, 3, 2),
    }
    context.update(overrides)
    return context


def long_table(rows: int) -> dict[str, object]:
    return {
        "columns": ["问题描述", "责任单位", "整改时限"],
        "numbered": True,
        "widths": [5, 2, 2],
        "rows": [
            [f"第{i}号排查点位入湖支流沿岸存在生活垃圾堆放", "清镇市人民政府", "2026年6月30日"]
            for i in range(1, rows + 1)
        ],
    }


@pytest.fixture(scope="module")
def notice_pdf() -> bytes:
    return render.render_pdf("notice", notice_context())


# ---- environment ---------------------------------------------------------------------------------


def test_harfbuzz_subset_is_loadable() -> None:
    assert render.check_harfbuzz_subset() is True


def test_free_fonts_are_installed() -> None:
    assert render.check_fonts() is True


# ---- text ----------------------------------------------------------------------------------------


def test_notice_text_round_trips(notice_pdf: bytes) -> None:
    pages = page_texts(notice_pdf)
    whole = squash("".join(pages))
    assert "".join(TITLE_LINES) in whole
    assert "两湖专班办〔2026〕3号" in whole
    assert ISSUER_MARK in whole
    assert "专班各成员单位：" in whole
    assert squash(FIRST_PARAGRAPH) in whole
    assert "附件：参会回执" in whole
    assert "2026年3月1日" in whole
    assert "抄送：贵阳市人民政府办公厅，安顺市人民政府办公室，贵安新区管委会办公室。" in whole
    assert "2026年3月2日印发" in whole
    assert "— 1 —" in pages[0]
    # The 署名 stays on one line (WeasyPrint once wrapped its last character) above the date.
    assert "“两湖”流域联动工作专班办公室\n2026年3月1日" in pages[-1]


def test_page_numbers_continue() -> None:
    pdf = render.render_pdf("notice", notice_context(table=long_table(20)))
    pages = page_texts(pdf)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"— {number} —" in text


def test_pdf_embeds_the_free_faces(notice_pdf: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(notice_pdf))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    assert {"GW-FangSong", "GW-SongBold", "GW-Hei", "GW-Kai", "GW-Song"} <= names
    # Noto CJK only for characters outside GB2312; this notice has none (each Noto face costs ~120 KB).
    assert not any("Noto" in name for name in names)


def test_characters_outside_gb2312_fall_back_to_noto() -> None:
    pdf = render.render_pdf("notice", notice_context(paragraphs=["联系人：王赟、李喆、张堃。"]))
    assert "联系人：王赟、李喆、张堃。" in squash("".join(page_texts(pdf)))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("Noto" in name for name in fonts), fonts


def test_rendering_is_deterministic(notice_pdf: bytes) -> None:
    assert render.render_pdf("notice", notice_context()) == notice_pdf


def test_render_logs_no_css_or_font_warnings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):  # in this process, where caplog sees it
        render.render_pdf_here("notice", notice_context(table=long_table(3)))
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []


# ---- geometry and colour (page 1 as pixels) ------------------------------------------------------

@pytest.fixture(scope="module")
def page1(notice_pdf: bytes) -> Image.Image:
    return page_image(notice_pdf)


def test_page_is_a4(page1: Image.Image) -> None:
    width, height = page1.size
    assert mm(width) == pytest.approx(210, abs=0.5)
    assert mm(height) == pytest.approx(297, abs=0.5)


def test_issuer_mark_is_red_and_placed(page1: Image.Image) -> None:
    px = page1.load()
    width, height = page1.size
    red_rows = [y for y in range(height) if any(is_red(px[x, y]) for x in range(width))]
    red = bands(red_rows)
    assert len(red) >= 2, red  # the 标志 and the rule under the 文号
    mark_top, mark_bottom = red[0]
    # Top edge of the 标志: 35 mm below the top of the 版心 (37 mm), tolerance ±1.5 mm at 72 dpi.
    assert mm(mark_top) == pytest.approx(72, abs=1.5)

    # The mark's band holds a lot of red ink (R high, G and B low) and no black or grey ink;
    # anti-aliased edges are pink, never grey.
    ink = [px[x, y] for y in range(mark_top, mark_bottom + 1) for x in range(width) if is_ink(px[x, y])]
    reds = [rgb for rgb in ink if is_red(rgb)]
    assert len(reds) > 500
    assert [rgb for rgb in ink if is_black(rgb)] == []
    r = sum(c[0] for c in reds) / len(reds)
    g = sum(c[1] for c in reds) / len(reds)
    b = sum(c[2] for c in reds) / len(reds)
    assert r > 200 and g < 80 and b < 80, (r, g, b)

    # The mark stays inside the 版心 horizontally (28-184 mm).
    xs = [x for y in range(mark_top, mark_bottom + 1) for x in range(width) if is_red(px[x, y])]
    assert mm(min(xs)) >= 27 and mm(max(xs)) <= 185

    # The red rule: as wide as the 版心 and 4 mm below the 文号 (black ink between mark and rule).
    rule_top, rule_bottom = red[1]
    rule_xs = [x for x in range(width) if is_red(px[x, (rule_top + rule_bottom) // 2])]
    assert mm(max(rule_xs) - min(rule_xs)) == pytest.approx(156, abs=1.5)
    number_rows = [
        y for y in range(mark_bottom + 1, rule_top) if any(is_black(px[x, y]) for x in range(width))
    ]
    assert mm(rule_top - max(number_rows)) == pytest.approx(4, abs=1.2)


def test_first_body_line_is_inside_the_type_area(page1: Image.Image) -> None:
    px = page1.load()
    width, height = page1.size
    red_rows = [y for y in range(height) if any(is_red(px[x, y]) for x in range(width))]
    rule_bottom = bands(red_rows)[1][1]
    text_rows = [y for y in range(rule_bottom + 2, height) if any(is_black(px[x, y]) for x in range(width))]
    lines = bands(text_rows)
    # Below the rule: 2 title lines, the 主送 line, then the body.
    top, bottom = lines[3]
    xs = [x for y in range(top, bottom + 1) for x in range(width) if is_ink(px[x, y])]
    assert mm(top) > 37 + 35  # below the 版心 top and the 版头
    assert mm(bottom) < 297 - 35
    assert mm(min(xs)) >= 28 - 0.5
    # 每个自然段左空二字: 28 mm + 2 x 15.79 pt = 39.1 mm.
    assert mm(min(xs)) == pytest.approx(39.1, abs=1.0)
    assert mm(max(xs)) <= 210 - 26 + 0.5
    # Body line pitch: 225 mm / 22 lines = 10.21 mm.
    pitch = (lines[5][0] - lines[3][0]) / 2
    assert mm(pitch) == pytest.approx(10.21, abs=0.4)


def test_page_number_sits_below_the_type_area_on_the_outer_side() -> None:
    pdf = render.render_pdf("notice", notice_context(table=long_table(20)))
    for page, outer_right in ((1, True), (2, False)):
        image = page_image(pdf, page)
        px = image.load()
        width, height = image.size
        below = [
            y
            for y in range(int(262 / MM_PER_INCH * DPI) + 2, height)
            if any(is_ink(px[x, y]) for x in range(width))
        ]
        top, bottom = bands(below)[0]
        assert mm((top + bottom) / 2) == pytest.approx(262 + 7, abs=1.5)
        xs = [x for y in range(top, bottom + 1) for x in range(width) if is_ink(px[x, y])]
        if outer_right:
            assert mm(max(xs)) == pytest.approx(184 - 4.9, abs=1.5)
        else:
            assert mm(min(xs)) == pytest.approx(28 + 4.9, abs=1.5)


# ---- the URL fetcher -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/seal.png",
        "https://example.com/fonts/FandolFang-Regular.otf",
        "ftp://example.com/x.css",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "file:///etc/hostname.css",
        "file://remote-host" + str(render.STYLESHEET),
        render.TEMPLATES_DIR.as_uri() + "/../render.py",
        render.TEMPLATES_DIR.as_uri() + "/fonts/../../../../../etc/x.otf",
    ],
)
def test_fetcher_refuses_anything_but_packaged_files(url: str) -> None:
    with pytest.raises(render.ResourceRefused):
        render.PackagedFilesFetcher()(url)


def test_fetcher_serves_the_stylesheet_and_fonts() -> None:
    fetcher = render.PackagedFilesFetcher()
    css = fetcher(render.STYLESHEET.as_uri())
    assert b"@page" in css.read()
    assert css.content_type == "text/css"
    font = fetcher(render.BASE_URL + "fonts/FandolFang-Regular.otf")
    assert font.read(4) == b"OTTO"
    with pytest.raises(FileNotFoundError):
        fetcher(render.BASE_URL + "fonts/NoSuchFont.otf")


def test_remote_image_fails_the_render_without_touching_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network used during rendering")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    html = '<p>印章</p><img src="http://127.0.0.1:9/seal.png">'
    with pytest.raises(render.RenderError, match="refused non-local resource"):
        render.html_to_pdf(html)
    assert attempts == []


# ---- tables --------------------------------------------------------------------------------------


def test_long_table_repeats_its_header_on_every_page() -> None:
    pdf = render.render_pdf("notice", notice_context(table=long_table(60)))
    pages = page_texts(pdf)
    assert len(pages) >= 2
    with_rows = [i for i, text in enumerate(pages) if "排查点位" in text]
    assert len(with_rows) >= 2
    for i in with_rows:
        assert "问题描述" in pages[i] and "责任单位" in pages[i] and "整改时限" in pages[i], i
    assert "第60号排查点位" in squash("".join(pages))
    # No row is split across pages: each row's description comes out whole on one page.
    for n in (1, 30, 60):
        assert sum(f"第{n}号排查点位入湖支流沿岸存在生活垃圾堆放" in squash(t) for t in pages) == 1


# ---- template data and the environment -----------------------------------------------------------


def test_cn_date_uses_arabic_numerals_without_leading_zeros() -> None:
    assert render.cn_date(dt.date(2026, 3, 1)) == "2026年3月1日"
    assert render.cn_date(dt.date(2026, 12, 31)) == "2026年12月31日"
    assert render.cn_date("2026-03-05") == "2026年3月5日"
    with pytest.raises(TypeError):
        render.cn_date(20260301)  # type: ignore[arg-type]


def test_context_values_are_escaped() -> None:
    html = render.render_html("notice", notice_context(paragraphs=["<b>加粗</b> & 其他"]))
    assert "&lt;b&gt;加粗&lt;/b&gt; &amp; 其他" in html
    assert "<b>" not in html


def test_missing_context_value_is_an_error() -> None:
    context = notice_context()
    del context["doc_number"]
    with pytest.raises(render.RenderError, match="doc_number"):
        render.render_html("notice", context)


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(render.UnknownKind):
        render.render_pdf("../base", notice_context())


def test_optional_header_lines_and_note() -> None:
    html = render.render_html(
        "notice", notice_context(copy_no="000123", secrecy="秘密★1年", urgency="特急", note="联系人：王华")
    )
    assert "000123" in html and "秘密★1年" in html and "特急" in html and "（联系人：王华）" in html


def test_template_version_is_recorded_per_kind() -> None:
    assert set(render.TEMPLATE_VERSION) == set(render.KINDS)
    assert "notice" in render.KINDS and "base" not in render.KINDS
    assert re.fullmatch(r"[0-9a-f]{16}", render.TEMPLATE_VERSION["notice"])


def test_mark_layout_fits_the_type_area() -> None:
    short = render.mark_layout("两湖专班办公室文件")
    assert [(m.size_pt, m.scale_x) for m in short] == [(36.0, 1.0)]
    long = render.mark_layout(ISSUER_MARK)
    assert long[0].size_pt == render.MARK_MIN_PT and 0.4 < long[0].scale_x < 1
    stacked = render.mark_layout(["贵阳贵安—安顺市“两湖”流域水资源环境", "保护治理联动工作专班办公室文件"])
    assert len({m.size_pt for m in stacked}) == 1
    with pytest.raises(ValueError):
        render.mark_layout([])
