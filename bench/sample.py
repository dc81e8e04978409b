"""A realistic request body: a digit drawn as the page draws it, as ``canvas.toDataURL()`` returns it.

The page (static/js/pad.js) strokes white ink, 6.2 % of the side wide, with round caps and joins, on
a transparent 280×280 canvas, whatever the size of the pad on screen, and sends it as a PNG data URL.
Browsers anti-alias the strokes; here they are drawn at 4× and box-filtered down, which gives the same
soft edges. The PNG is written as the browser writes it (``ENCODINGS``): by default as Chromium does,
the engine of most visitors' browsers. How the PNG is written changes what decoding it costs by up to half.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIDE = 280  # the pad's image: the page draws the strokes afresh at 280×280 to send them (static/js/pad.js)
# The pad's own canvas on common screens (its CSS size times devicePixelRatio, measured in Chromium; the pad
# is 406 CSS px wide in a 1280-px window): what the page sent before 2026-12-03, when it sent the canvas as it was.
SCREENS = {
    "280×280: what the page sends": SIDE,
    "406×406: desktop, devicePixelRatio 1": 406,
    "812×812: laptop, devicePixelRatio 2": 812,
    "930×930: 360-px phone, devicePixelRatio 3": 930,
}
# How canvas.toDataURL() writes the PNG: the filter of every row, and zlib's compression level.
# - Chromium (Chrome, Edge, Opera, Samsung Internet): "Up" on every row, at zlib's fastest level — read from
#   Debian's Chromium's output, whose zlib header says level 0 or 1 (the data are compressed: 1).
#   tests/static/test_page.py checks that the page's drawing still comes out so. Decoding this sample costs
#   what decoding Chromium's own PNG of a drawing costs (0.37-0.45 against 0.37-0.53 ms in Pillow, 2026-12-03);
# - Firefox: "None" on every row at libpng's default level, 6, in the versions of Gecko's
#   image/encoders/png/nsPNGEncoder.cpp read here (newer ones may filter "Sub" at level 3: not checked);
# - Pillow's own encoder: a filter chosen row by row, level 6 (libpng's defaults). No browser is known to
#   write this; it is what this sample was until 2026-12-03 (docs/performance.md).
ENCODINGS = {"Chromium": ("up", 1), "Firefox": ("none", 6), "Pillow": ("adaptive", 6)}
ENCODING = "Chromium"
LINE_WIDTH = 0.062  # pad.js's LINE_WIDTH: stroke width as a fraction of the side
SUPERSAMPLE = 4
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Strokes in the pad's unit square, as a hand would draw them.
STROKES: dict[int, list[list[tuple[float, float]]]] = {
    7: [[(0.28, 0.22), (0.50, 0.21), (0.72, 0.22), (0.62, 0.42), (0.52, 0.62), (0.45, 0.80)]],
    3: [[(0.32, 0.24), (0.48, 0.18), (0.64, 0.24), (0.62, 0.38), (0.48, 0.47), (0.64, 0.56), (0.66, 0.72),
         (0.50, 0.81), (0.32, 0.75)]],
    4: [[(0.58, 0.80), (0.58, 0.50), (0.57, 0.20)], [(0.55, 0.21), (0.30, 0.58), (0.72, 0.58)]],
}


def canvas_png(digit: int = 3, side: int = SIDE, encoding: str = ENCODING) -> bytes:
    """PNG bytes of ``digit`` drawn in white on a transparent ``side``×``side`` RGBA canvas, written as
    ``encoding`` (a key of ENCODINGS) writes it."""
    big = side * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    width = round(LINE_WIDTH * big)
    for stroke in STROKES[digit]:
        points = [(x * big, y * big) for x, y in stroke]
        draw.line(points, fill=(255, 255, 255, 255), width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round caps
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=(255, 255, 255, 255))
    small = image.resize((side, side), Image.Resampling.BOX)
    row_filter, level = ENCODINGS[encoding]
    if row_filter == "adaptive":
        buffer = io.BytesIO()
        small.save(buffer, format="PNG")
        return buffer.getvalue()
    return png_filtered(np.asarray(small), row_filter, level)


def png_filtered(rgba: np.ndarray, row_filter: str, level: int) -> bytes:
    """(H, W, 4) uint8 → an 8-bit RGBA PNG with every row filtered alike ("none" or "up") and zlib at ``level``."""
    height, width, _ = rgba.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, deflate, filtering 0, no interlace
    compressed = zlib.compress(scanlines(rgba, row_filter), level)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", compressed) + png_chunk(b"IEND", b"")


def scanlines(rgba: np.ndarray, row_filter: str) -> bytes:
    """(H, W, 4) uint8 → a PNG's rows before compression, every row filtered alike ("none" or "up")."""
    height, width, _ = rgba.shape
    rows = rgba.reshape(height, width * 4)
    if row_filter == "up":  # each byte minus the byte above it, modulo 256 (uint8 arithmetic wraps)
        rows = np.diff(rows, axis=0, prepend=np.zeros((1, width * 4), np.uint8))
    filter_type = {"none": 0, "up": 2}[row_filter]  # each row starts with its filter's number
    return np.hstack([np.full((height, 1), filter_type, np.uint8), rows]).tobytes()


def png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    """One PNG chunk: length, type, data, CRC (the right one unless ``crc`` is given: the tests write wrong ones)."""
    checksum = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


def data_url(digit: int = 3, side: int = SIDE, encoding: str = ENCODING) -> str:
    """``data:image/png;base64,…`` of :func:`canvas_png`, the ``image`` field the page sends."""
    return "data:image/png;base64," + base64.b64encode(canvas_png(digit, side, encoding)).decode("ascii")


def photo_jpeg(digit: int = 3, size: tuple[int, int] = (3000, 2250)) -> bytes:
    """JPEG bytes of ``digit`` in dark ink on grey, grainy paper, as a phone's camera would send it (quality 88)."""
    width, height = size
    rng = np.random.default_rng(digit)
    paper = rng.normal(215, 6, (height, width)).clip(0, 255).astype(np.uint8)
    image = Image.merge("RGB", [Image.fromarray(paper)] * 3)
    draw = ImageDraw.Draw(image)
    side = 0.6 * min(size)  # the digit's box, in the middle of the picture
    left, top = (width - side) / 2, (height - side) / 2
    pen = round(LINE_WIDTH * side * 1.5)
    for stroke in STROKES[digit]:
        draw.line([(left + x * side, top + y * side) for x, y in stroke], fill=(35, 35, 55), width=pen, joint="curve")
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(2)).save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()
