"""What a person reads on a page, and the codes that must never be in it.

A page's visible text is its text nodes without scripts, styles and attribute values. In it no word may be
a code the machine uses — a snake_case name (`deadline_warning`, `to_yellow`), a bare lowercase ASCII word
(`referral`, `plenary`), an ISO date or time (2026-03-01), a period code (2026-Q3, 2026-H2, 2026-M03) or
raw JSON / Python reprs ({"kind": …}). Words a person types to sign in (usernames) are allowed where the
caller says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Not read: what no one sees, and <code> — what a person types as it stands (a command, a password).
_HIDDEN = {"script", "style", "template", "head", "code"}

CODES = {
    "period": re.compile(r"(?<![\w-])\d{4}-(?:Q[1-4]|H[12]|M\d{2})(?![\w-])"),
    "iso date": re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?)?"),
    "json": re.compile(r"""[{\[]\s*["'][^"']*["']\s*:"""),
    "snake_case": re.compile(r"(?<![\w@./:-])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![\w@/-])"),
    # A lowercase ASCII word standing alone: not part of an address, a file name or a mixed-case name.
    "code word": re.compile(r"(?<![\w@./:\-=&?#])[a-z]{3,}(?![\w@./:\-=&?#])"),
}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth_hidden = 0
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.depth_hidden += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self.depth_hidden:
            self.depth_hidden -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.depth_hidden:
            self.parts.append(data)


def read(html: str) -> tuple[str, list[str]]:
    """(visible text, hrefs of its links)."""
    p = _Text()
    p.feed(html)
    p.close()
    return re.sub(r"\s+", " ", "".join(p.parts)).strip(), p.links


def offences(text: str, allowed: Iterable[str] = ()) -> dict[str, list[str]]:
    """Kind of code → the codes found in a page's visible text."""
    allow = set(allowed)
    found: dict[str, list[str]] = {}
    for kind, pattern in CODES.items():
        hits = [m.group(0) for m in pattern.finditer(text) if m.group(0) not in allow]
        if hits:
            found[kind] = sorted(set(hits))
    return found


def context(text: str, found: dict[str, list[str]], width: int = 40) -> str:
    """The words around the first code found, to say where on the page it stands."""
    word = next(w for ws in found.values() for w in ws)
    at = text.find(word)
    return text[max(0, at - width):at + len(word) + width]


def same_site_paths(base: str, hrefs: Iterable[str]) -> list[str]:
    """The hrefs that are pages of this site, as path?query."""
    out = []
    for href in hrefs:
        u = urlsplit(urljoin(base, href))
        if u.scheme not in ("http", "https") or u.netloc not in ("testserver", ""):
            continue
        out.append(u.path + (f"?{u.query}" if u.query else ""))
    return out
