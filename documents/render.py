"""Render official documents (公文) from plain data: Jinja2 templates → HTML → PDF with WeasyPrint.

Documents are pure functions of their context: one Jinja2 environment (autoescape, StrictUndefined),
one stylesheet implementing GB/T 9704-2012, and a URL fetcher that serves packaged files only, so a
template can never reach the network or the rest of the file system.
"""

from __future__ import annotations

import ctypes.util
import datetime as dt
import hashlib
import logging
import math
import mimetypes
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import jinja2.meta
from weasyprint import HTML
from weasyprint.document import Document
from weasyprint.formatting_structure import boxes
from weasyprint.text import ffi as weasyprint_ffi
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from engine.localtime import local_date, moment_of

__all__ = [
    "DOCUMENTS_DIR",
    "KINDS",
    "TEMPLATE_VERSION",
    "TEMPLATES_DIR",
    "PackagedFilesFetcher",
    "RenderError",
    "RenderTimeout",
    "ResourceRefused",
    "TooLarge",
    "UnknownKind",
    "check_fonts",
    "check_harfbuzz_subset",
    "cn_date",
    "html_to_pdf",
    "mark_layout",
    "render_html",
    "render_pdf",
    "render_pdf_here",
    "title_lines",
]

log = logging.getLogger(__name__)

DOCUMENTS_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = DOCUMENTS_DIR / "templates"
STYLESHEET = TEMPLATES_DIR / "gbt9704.css"
BASE_URL = TEMPLATES_DIR.as_uri() + "/"

# "fonts/" beside the stylesheet is a virtual folder: the fetcher looks a font file up by name in
# these folders, in order. documents/fonts/ lets a deployment drop in licensed faces; the Fandol
# faces come from Debian's texlive-lang-chinese.
FONTS_URL_DIR = TEMPLATES_DIR / "fonts"
FONT_DIRS: tuple[Path, ...] = (
    DOCUMENTS_DIR / "fonts",
    Path("/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"),
)
FONT_SUFFIXES = frozenset({".otf", ".ttf", ".ttc", ".woff", ".woff2"})
# The faces the stylesheet loads by file; without them text falls back to Noto CJK (fonts-noto-cjk).
REQUIRED_FONTS = (
    "FandolFang-Regular.otf",
    "FandolSong-Regular.otf",
    "FandolSong-Bold.otf",
    "FandolHei-Regular.otf",
    "FandolKai-Regular.otf",
)
# File types a template or the stylesheet may pull from the package.
SERVED_SUFFIXES = FONT_SUFFIXES | {".css", ".svg", ".png", ".jpg", ".jpeg"}


class RenderError(Exception):
    """A document could not be rendered."""


class UnknownKind(RenderError, LookupError):
    """No template exists for the requested document kind."""


class TooLarge(RenderError):
    """A document past the render limits: refused before layout (its text) or before writing (its pages)."""


class RenderTimeout(RenderError):
    """A render worker took longer than its time limit and was stopped (retried like other failures:
    a loaded machine may be the cause)."""


# Renders in one worker run one at a time, so one document's size is that worker's wait. The event's fields
# are bounded (engine/definition.py TEXT_LIMITS); these bound what one document may gather from a case.
# Measured on the 2-core machine: 20,000 characters of body text lay out as 34 pages in about 6 s,
# 40,000 as 66 pages in about 10 s, 59,000 as 97 pages in 4.5 s on a quieter machine (141 MB); the old
# unbounded 1 MB field took 60 s and 232 MB for 508 pages. Past the limit a document is refused in < 1 ms.
MAX_TEXT_CHARS = 60_000  # about 100 pages, 5-15 s: the worst case any one document may cost
MAX_PAGES = 120


def text_size(value: Any) -> int:
    """Characters of text in a document's context (strings in mappings and lists, at any depth)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(text_size(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(text_size(v) for v in value)
    return 0


# WeasyPrint catches ordinary fetch errors and only logs them; a refused resource must stop the
# render instead, so it derives from WeasyPrint's fatal error (a BaseException). html_to_pdf turns
# it into RenderError so that callers catching Exception (the outbox) still see it.
class ResourceRefused(FatalURLFetchingError):
    """The fetcher refused a URL: not a packaged file."""


# ---- URL fetcher ---------------------------------------------------------------------------------


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _find_font(name: str) -> Path | None:
    """The first installed font file called `name` (a bare file name) in FONT_DIRS."""
    if Path(name).name != name or Path(name).suffix.lower() not in FONT_SUFFIXES:
        return None
    for folder in FONT_DIRS:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _resolve(url: str) -> Path:
    """Map a URL to a packaged file, or raise ResourceRefused / FileNotFoundError."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise ResourceRefused(f"refused non-local resource: {url[:200]}")
    path = Path(unquote(parts.path)).resolve()
    if path.suffix.lower() not in SERVED_SUFFIXES:
        raise ResourceRefused(f"refused file type: {url[:200]}")
    if path.parent == FONTS_URL_DIR and path.suffix.lower() in FONT_SUFFIXES:
        found = _find_font(path.name)
        if found is None:
            # Not fatal: WeasyPrint logs it and the font-family list falls back to Noto CJK.
            raise FileNotFoundError(f"font not installed: {path.name}")
        return found
    if not _within(path, DOCUMENTS_DIR):
        raise ResourceRefused(f"refused file outside the documents package: {url[:200]}")
    if not path.is_file():
        raise FileNotFoundError(f"no such packaged file: {path.relative_to(DOCUMENTS_DIR)}")
    return path


class PackagedFilesFetcher(URLFetcher):
    """Serve files of the documents package (and the known font files); refuse anything else."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        path = _resolve(url)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix.lower() in FONT_SUFFIXES:
            mime = "font/" + path.suffix.lower().lstrip(".")
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


# ---- Jinja2 --------------------------------------------------------------------------------------


def cn_date(value: dt.date | str) -> str:
    """Format a date as GB/T 9704 wants it: Arabic numerals, full year, no leading zeros. A moment is
    written as its Beijing day."""
    if isinstance(value, dt.datetime) or (isinstance(value, str) and len(value) > 10):
        value = local_date(moment_of(value))
    elif isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if not isinstance(value, dt.date):
        raise TypeError(f"not a date: {value!r}")
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True)
class MarkLine:
    """One line of the 发文机关标志: its text, size, and horizontal scale (1.0 = not condensed)."""

    text: str
    size_pt: float
    scale_x: float

    @property
    def width_pt(self) -> float:
        """Natural (unscaled) width of the line, plus a little room for proportional punctuation."""
        return round((_em_width(self.text) + 0.5) * self.size_pt, 1)


# 版心 width in pt (156 mm), and the size range for the 发文机关标志.
_TYPE_AREA_PT = 156 / 25.4 * 72
MARK_MAX_PT = 36.0  # 小初
MARK_MIN_PT = 26.0  # below this a long name is condensed horizontally instead of shrunk


def _em_width(text: str) -> float:
    return sum(0.5 if ord(ch) < 0x2000 else 1.0 for ch in text)


def mark_layout(issuer_mark: str | Sequence[str]) -> list[MarkLine]:
    """Fit the 发文机关标志 (one line, or stacked lines given as a list) into the 156 mm 版心.

    All lines share one size: the largest up to 小初 that fits the longest line. A line that does
    not fit even at MARK_MIN_PT is condensed (长体) rather than shrunk further, as issuers do with
    long names, so it stays tall and legible.
    """
    lines = [issuer_mark] if isinstance(issuer_mark, str) else list(issuer_mark)
    if not lines or not all(isinstance(line, str) and line for line in lines):
        raise ValueError("issuer_mark must be a non-empty str or a list of non-empty str")
    widest = max(_em_width(line) for line in lines)
    size = max(MARK_MIN_PT, min(MARK_MAX_PT, _TYPE_AREA_PT / widest))
    size = float(int(size * 2) / 2)  # half points keep the CSS tidy
    result = []
    for line in lines:
        natural = _em_width(line) * size
        scale = 1.0 if natural <= _TYPE_AREA_PT else round(_TYPE_AREA_PT / natural - 0.005, 3)
        result.append(MarkLine(line, size, scale))
    return result


# Whole 2号 (22 pt) characters on a title line: 156 mm holds 20.1; a landscape page's 225 mm holds
# 28.99, so 28 (a 29-character line overflows by 0.2 pt and WeasyPrint wraps its last character).
TITLE_CHARS = int(156 / 25.4 * 72 / 22)
LANDSCAPE_TITLE_CHARS = int(225 / 25.4 * 72 / 22)
# Words a title line must not split (GB/T 9704 §7.3.1: "词意完整"). Without a segmenter, the
# words 公文 titles use most; a character outside them may be followed by a break.
_TITLE_WORDS_TEXT = """关于 召开 印发 移送 转发 会议 专题 通知 通报 纪要 方案 整改 问题 清单 情况 进展 工作
    保护 治理 联动 环境 生态 水源地 饮用水 跨界 跨区域 跨部门 流域 生活 垃圾 污水 堆放 沿岸 排查 联合
    督办 落实 季度 专班 成员 单位 建议 检察 监督 机制 推进 加强 开展 监测 水质 办公室 人民政府 联席
    第一 第二 第三 第四 执法 专项 行动 回头看 销号 约谈 参会 回执"""
_TITLE_WORDS = sorted(_TITLE_WORDS_TEXT.split(), key=len, reverse=True)
_OPENERS = "“《（〔【"
_CLOSERS = "”》）〕】，、。：；！？"


def _title_tokens(title: str) -> list[str]:
    """Unbreakable pieces: listed words, runs of digits and Latin letters, quoted or bracketed
    phrases up to 8 characters, and punctuation kept with its neighbour."""
    tokens: list[str] = []
    i = 0
    while i < len(title):
        ch = title[i]
        if ch in _OPENERS:
            close = {"“": "”", "《": "》", "（": "）", "〔": "〕", "【": "】"}[ch]
            end = title.find(close, i + 1)
            if 0 < end - i <= 9:
                tokens.append(title[i:end + 1])
                i = end + 1
                continue
        if ch.isascii() and ch.isalnum():
            j = i
            while j < len(title) and title[j].isascii() and title[j].isalnum():
                j += 1
            tokens.append(title[i:j])
            i = j
            continue
        word = next((w for w in _TITLE_WORDS if title.startswith(w, i)), ch)
        tokens.append(word)
        i += len(word)
    # Closing punctuation never starts a line; an opening one never ends a line.
    merged: list[str] = []
    for token in tokens:
        if merged and (token[0] in _CLOSERS or merged[-1][-1] in _OPENERS):
            merged[-1] += token
        else:
            merged.append(token)
    return merged


def title_lines(title: str, per_line: float = TITLE_CHARS) -> list[str]:
    """Break a long title into balanced lines between whole words (梯形 or 菱形, §7.3.1)."""
    width = _em_width(title)
    if width <= per_line:
        return [title]
    count = math.ceil(width / per_line)
    tokens = _title_tokens(title)
    ends, total = [], 0.0
    for token in tokens:
        total += _em_width(token)
        ends.append(total)
    lines, start = [], 0
    for k in range(1, count):
        target = width * k / count
        # The break after token i; of two equally good breaks the later one (upper line longer).
        candidates = [i for i in range(start, len(tokens) - 1)
                      if ends[i] - (ends[start - 1] if start else 0.0) <= per_line]
        if not candidates:
            break
        cut = min(candidates, key=lambda i: (abs(ends[i] - target), -i))
        lines.append("".join(tokens[start:cut + 1]))
        start = cut + 1
    lines.append("".join(tokens[start:]))
    return lines


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        auto_reload=False,
    )
    env.filters["cn_date"] = cn_date
    env.globals["mark_layout"] = mark_layout
    env.globals["title_lines"] = title_lines
    env.globals["LANDSCAPE_TITLE_CHARS"] = LANDSCAPE_TITLE_CHARS
    return env


ENV = _environment()


def _kinds() -> tuple[str, ...]:
    """Document kinds: every template that is neither the base nor a partial (leading "_")."""
    return tuple(
        sorted(
            p.stem
            for p in TEMPLATES_DIR.glob("*.html")
            if p.name != "base.html" and not p.name.startswith("_")
        )
    )


KINDS = _kinds()


def _template_files(name: str, seen: set[str] | None = None) -> list[str]:
    """The template and every template it extends, includes or imports, recursively."""
    seen = set() if seen is None else seen
    if name in seen:
        return []
    seen.add(name)
    source = (TEMPLATES_DIR / name).read_text(encoding="utf-8")
    files = [name]
    for ref in jinja2.meta.find_referenced_templates(ENV.parse(source)):
        if ref is None:
            raise RenderError(f"{name}: dynamic template reference; cannot version it")
        files.extend(_template_files(ref, seen))
    return files


def _template_version(kind: str) -> str:
    digest = hashlib.sha256()
    for name in sorted(_template_files(f"{kind}.html")) + [STYLESHEET.name]:
        data = (TEMPLATES_DIR / name).read_bytes()
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()[:16]


# Recorded with every archived document: which template and stylesheet produced it.
TEMPLATE_VERSION: Mapping[str, str] = {kind: _template_version(kind) for kind in KINDS}


def render_html(kind: str, context: Mapping[str, Any]) -> str:
    """Render the HTML of a document kind from plain data."""
    if kind not in KINDS:
        raise UnknownKind(f"unknown document kind: {kind!r} (known: {', '.join(KINDS)})")
    try:
        return ENV.get_template(f"{kind}.html").render(dict(context))
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{kind}: missing context value: {exc}") from exc


# ---- WeasyPrint ----------------------------------------------------------------------------------

# One FontConfiguration per process: it copies each @font-face file once into a temporary folder
# and keeps it registered, so later renders skip loading the 5-8 MB CJK fonts. Pango/fontconfig
# objects shared this way are not safe across threads, and FastAPI runs sync endpoints in a thread
# pool, so renders in one process are serialised.
_RENDER_LOCK = threading.Lock()


@cache
def _font_config() -> FontConfiguration:
    for check in (check_harfbuzz_subset, check_fonts):
        if (problem := check()) is not True:
            log.warning("document rendering: %s", problem)
    return FontConfiguration()


def _layout(html: str) -> Document:
    font_config = _font_config()
    try:
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=PackagedFilesFetcher()).render(
            font_config=font_config
        )
    except FatalURLFetchingError as exc:
        cause = exc.__cause__ or exc
        raise RenderError(str(cause)) from exc
    if len(document.pages) > MAX_PAGES:
        raise TooLarge(f"the document lays out as {len(document.pages)} pages; at most {MAX_PAGES}")
    return document


def _turn_landscape_pages(document: Document, pdf: Any) -> None:
    """Store landscape pages turned a quarter anticlockwise (/Rotate 270): held as a portrait sheet,
    the table's head is at the sheet's left edge — the binding side of an odd page, the outer side
    of an even one (GB/T 9704 §8) — and the page number at the foot (see the stylesheet)."""
    for number in pdf.pages["Kids"][::3]:
        page = pdf.objects[number]
        _, _, width, height = page["MediaBox"]
        if width > height:
            page["Rotate"] = 270


def _write(document: Document) -> bytes:
    return document.write_pdf(finisher=_turn_landscape_pages)


def html_to_pdf(html: str) -> bytes:
    """Lay out HTML (relative URLs resolve in documents/templates/) and return the PDF bytes, in
    this process."""
    with _RENDER_LOCK:
        return _write(_layout(html))


def _page_of_banji(document: Document) -> tuple[int, bool] | None:
    """(1-based page, whether that page holds nothing but the 版记) of the 版记, if any."""
    for number, page in enumerate(document.pages, start=1):
        areas = [box for box in page._page_box.children if isinstance(box, boxes.FootnoteAreaBox)]
        if any(area.children for area in areas):
            main = [box for box in page._page_box.children
                    if not isinstance(box, boxes.FootnoteAreaBox | boxes.MarginBox)]
            return number, not any(_has_text(box) for box in main)
    return None


def _has_text(box: Any) -> bool:
    if isinstance(box, boxes.TextBox):
        return bool(box.text.strip())
    return any(_has_text(child) for child in getattr(box, "children", ()))


def _check_text_size(kind: str, context: Mapping[str, Any]) -> None:
    size = text_size(context)
    if size > MAX_TEXT_CHARS:
        raise TooLarge(f"{kind}: {size} characters of text; a document takes at most {MAX_TEXT_CHARS}")


def render_pdf_here(kind: str, context: Mapping[str, Any]) -> bytes:
    """render_pdf in this process, without the time and memory limits of a render worker."""
    _check_text_size(kind, context)
    html = render_html(kind, context)
    with _RENDER_LOCK:
        document = _layout(html)
        # GB/T 9704 §7.4: the 版记 on the last side of a sheet. Past page 1 an odd page is a front,
        # so the 版记 moves to its back — after a blank page if the text ended on an even page.
        found = _page_of_banji(document) if 'data-banji="last-side"' in html else None
        if found is not None and found[0] > 1 and found[0] % 2 == 1:
            alone = found[1]
            document = _layout(render_html(kind, {**context, "banji_page": "bare" if alone else "even"}))
        return _write(document)


def render_pdf(kind: str, context: Mapping[str, Any]) -> bytes:
    """Render a document kind from plain data to PDF bytes in a render worker process
    (documents/render_workers.py); TooLarge past the render limits (text, pages, memory),
    RenderTimeout past the time limit."""
    _check_text_size(kind, context)
    from documents import render_workers

    return render_workers.pool().render(kind, context)


def warm_up() -> None:
    """Load the fonts once (a render worker does this before its first job)."""
    with _RENDER_LOCK:
        _write(_layout('<p class="hei">预热 0</p><p class="kai">预热</p><p class="xbs">预热</p>'))


# ---- readiness checks ----------------------------------------------------------------------------


def check_harfbuzz_subset() -> bool | str:
    """True if WeasyPrint subsets fonts with HarfBuzz; otherwise a message saying what to install.

    Without Debian's libharfbuzz-subset0 WeasyPrint falls back to fontTools and a CJK notice takes
    20-30 s instead of well under a second.
    """
    if weasyprint_ffi.harfbuzz_subset is None:
        found = ctypes.util.find_library("harfbuzz-subset")
        hint = f" (found {found} but it did not load)" if found else ""
        return (
            "libharfbuzz-subset is not loadable" + hint + "; install the Debian package libharfbuzz-subset0, "
            "otherwise rendering a Chinese document takes 20-30 s"
        )
    if not weasyprint_ffi.harfbuzz.hb_version_atleast(4, 1, 0):
        return "HarfBuzz is older than 4.1; WeasyPrint will not use it for subsetting"
    return True


def check_fonts() -> bool | str:
    """True if the free faces the stylesheet loads by file are installed; otherwise which are missing."""
    missing = [name for name in REQUIRED_FONTS if _find_font(name) is None]
    if not missing:
        return True
    return (
        f"missing fonts {', '.join(missing)} (Debian package texlive-lang-chinese); "
        "documents fall back to Noto CJK, which looks different and makes PDFs about 3x larger"
    )
