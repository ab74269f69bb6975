"""Small previews of image evidence, and which stored types a browser may show inline."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
# Shown in the browser (Content-Disposition: inline): types whose viewers run no page script.
PREVIEWABLE = IMAGE_TYPES | {"application/pdf"}
THUMBNAIL_SIZE = (320, 320)
# A photo from a phone is ~50 megapixels at most; a larger claim is a decompression bomb.
MAX_PIXELS = 80_000_000


def thumbnail_png(path: Path) -> bytes | None:
    """A PNG at most THUMBNAIL_SIZE, or None when the file is not an image Pillow can read safely."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.width * im.height > MAX_PIXELS:
                    return None
                im.thumbnail(THUMBNAIL_SIZE)
                out = io.BytesIO()
                im.convert("RGB").save(out, "PNG", optimize=True)
                return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        return None
