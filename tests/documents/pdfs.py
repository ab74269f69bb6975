"""Reading rendered PDFs back: text with pypdf, page images with pdftoppm, ink by colour."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pypdf
from PIL import Image

MM_PER_INCH = 25.4
DPI = 72


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def squash(text: str) -> str:
    """Text without line breaks and spaces (pypdf separates lines with "\\n")."""
    return re.sub(r"\s+", "", text)


def page_image(pdf: bytes, page: int = 1, dpi: int = DPI) -> Image.Image:
    assert shutil.which("pdftoppm"), "pdftoppm (Debian poppler-utils) is required"
    png = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(io.BytesIO(png)).convert("RGB")


def mm(px: float, dpi: int = DPI) -> float:
    return px * MM_PER_INCH / dpi


def is_red(rgb: tuple[int, int, int]) -> bool:
    r, g, b = rgb
    return r > 170 and g < 110 and b < 110 and r - max(g, b) > 100


def is_ink(rgb: tuple[int, int, int]) -> bool:
    return sum(rgb) < 600


def is_black(rgb: tuple[int, int, int]) -> bool:
    """Black or grey ink (anti-aliased red is pink, not grey)."""
    return is_ink(rgb) and rgb[0] - max(rgb[1], rgb[2]) < 40


def bands(rows: list[int]) -> list[tuple[int, int]]:
    """Group row indices into runs (gaps of one pixel are part of the run)."""
    runs: list[list[int]] = []
    for row in rows:
        if runs and row - runs[-1][1] <= 2:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    return [(a, b) for a, b in runs]


def red_rows(image: Image.Image) -> list[int]:
    px = image.load()
    width, height = image.size
    return [y for y in range(height) if any(is_red(px[x, y]) for x in range(width))]
