"""A duty's period: the code a case records (2026-Q3) and the words a person reads (2026年第三季度).

One function turns every code into words, so a page, a document and a case title read a period alike.
Codes: a year (2026), a half (2026-H2), a quarter (2026-Q3), a month (2026-M03), or the first day of an
irregular period (2026-03-01, from an `rrule` cadence).
"""

from __future__ import annotations

import re
from datetime import date

_CN_Q = "一二三四"
_CODE = re.compile(r"^(\d{4})(?:-(?:H([12])|Q([1-4])|M(0[1-9]|1[0-2])|(\d{2})-(\d{2})))?$")


def period_code(every: str, start: date) -> str:
    """The code of the period of kind `every` (year, half_year, quarter, month, rrule) starting on `start`."""
    y = start.year
    if every == "month":
        return f"{y}-M{start.month:02d}"
    if every == "quarter":
        return f"{y}-Q{(start.month - 1) // 3 + 1}"
    if every == "half_year":
        return f"{y}-H{1 if start.month <= 6 else 2}"
    if every == "rrule":
        return start.isoformat()
    return str(y)


def period_title(code: str) -> str:
    """2026-Q3 → 2026年第三季度, 2026-H2 → 2026年下半年, 2026-M03 → 2026年3月, 2026 → 2026年,
    2026-03-01 → 2026年3月1日起; anything else is returned as it is."""
    m = _CODE.match(str(code).strip())
    if not m:
        return str(code)
    year, half, quarter, month, mm, dd = m.groups()
    if half:
        return f"{year}年{'上' if half == '1' else '下'}半年"
    if quarter:
        return f"{year}年第{_CN_Q[int(quarter) - 1]}季度"
    if month:
        return f"{year}年{int(month)}月"
    if mm:
        return f"{year}年{int(mm)}月{int(dd)}日起"
    return f"{year}年"
