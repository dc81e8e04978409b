"""A corpus of hostile requests: broken and oversized image files, abusive JSON, very long and odd strings.

Each ``Case`` is one HTTP request and the status the service must answer with. Everything is built in
memory from a few bytes of code (no fixture files): crafted headers, chunks and segments rather than
real large images, so building the whole corpus takes well under a second.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from bench.sample import PNG_SIGNATURE, png_chunk
from tests.app.helpers import data_url, draw, encode, png_header_only

LIMIT = 2 * 1024 * 1024  # the body limit the server under test runs with (the default)
PIXELS = [0.0] * 784
BATCH = "/api/predict/batch"


@dataclass
class Case:
    """One request: ``method path`` with httpx keyword arguments, and the status it must get."""

    name: str
    path: str
    status: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    method: str = "POST"


def upload(name: str, data: bytes, status: int, filename: str = "drawing.png") -> Case:
    return Case(name, "/api/predict/file", status, {"files": {"file": (filename, data)}})


def as_json(name: str, body: Any, status: int, path: str = "/api/predict") -> Case:
    return Case(name, path, status, {"json": body})


def raw_json(name: str, content: bytes, status: int, path: str = "/api/predict") -> Case:
    return Case(name, path, status, {"content": content, "headers": {"content-type": "application/json"}})


# ---- image files ------------------------------------------------------------------------------


def png(width: int, height: int, *extra: bytes, idat: bytes | None = None, ihdr_crc: int | None = None) -> bytes:
    """A greyscale PNG of ``width``×``height`` with ``extra`` chunks before its image data."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0), ihdr_crc)
    if idat is None:
        idat = zlib.compress((b"\x00" + b"\xff" * width) * height)  # every row: filter byte 0, then white
    return PNG_SIGNATURE + ihdr + b"".join(extra) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def ztxt_bomb() -> bytes:
    """A zTXt text chunk that inflates to 64 MB (a thousand times its size), in front of a small valid image."""
    text = zlib.compressobj(9)
    block = bytes(1 << 20)
    compressed = b"".join(text.compress(block) for _ in range(64)) + text.flush()
    return png(28, 28, png_chunk(b"zTXt", b"comment\x00\x00" + compressed))


def many_ztxt_chunks(count: int = 80) -> bytes:
    """``count`` zTXt chunks of 1 MB each when inflated, 1 KB each as sent: 80 KB of PNG, 80 MB of text."""
    compressed = zlib.compress(bytes(1 << 20), 9)
    return png(28, 28, *(png_chunk(b"zTXt", b"comment\x00\x00" + compressed) for _ in range(count)))


def gif_header(width: int, height: int) -> bytes:
    """A GIF89a whose logical screen and only frame claim ``width``×``height``."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x4c\x01\x00\x3b"
    return screen + frame


def bmp_header(width: int, height: int) -> bytes:
    """A 24-bit BMP header claiming ``width``×``height`` with four bytes of pixel data."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + 4, 0, 0, 14 + len(info)) + info + b"\x00" * 4


def jpeg_with_sof(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) is rewritten to claim ``width``×``height``."""
    data = bytearray(encode(Image.new("L", (16, 16), 255), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def jpeg_with_huge_exif() -> bytes:
    """A small valid JPEG carrying 28 APP1 "Exif" segments of 64 KB (Pillow joins them: 1.8 MB of EXIF).

    The first holds a TIFF header whose IFD lists 5,000 entries that each point at the whole block, and
    a next-IFD pointer back at itself: a parser that trusted the counts would copy gigabytes or loop.
    """
    entries = b"".join(struct.pack("<HHII", 0x9000 + i, 7, 60_000, 8) for i in range(5000))
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 5000) + entries + struct.pack("<I", 8)
    segments = []
    payload = b"Exif\x00\x00" + tiff
    for index in range(28):
        body = payload if index == 0 else b"Exif\x00\x00" + bytes(65000)
        body = body[:65000].ljust(65000, b"\x00")
        segments.append(b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body)
    jpeg = encode(draw(size=(64, 64), box=(12, 12, 52, 52), width=5), "JPEG")
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def animated_gif(frames: int) -> bytes:
    """A 64×64 GIF of ``frames`` frames: a drawn digit, then single dots (each frame differs, none merged)."""
    first = draw(size=(64, 64), box=(12, 12, 52, 52), width=5)
    rest = []
    for i in range(frames - 1):
        frame = Image.new("L", (64, 64), 255)
        frame.putpixel((i % 64, (i // 64) % 64), 0)
        rest.append(frame)
    return encode(first, "GIF", save_all=True, append_images=rest, duration=10)


def image_cases() -> list[Case]:
    good = encode(draw(size=(64, 64), box=(12, 12, 52, 52), width=5))
    ihdr_end = len(PNG_SIGNATURE) + 25
    return [
        # Malformed PNG chunks.
        upload("png-bad-ihdr-crc", png(28, 28, ihdr_crc=0), 422),
        upload("png-chunk-claims-2GB", good[:ihdr_end] + struct.pack(">I", 0x7FFFFFFF) + b"IDAT" + b"\x00" * 64, 422),
        upload("png-no-ihdr", PNG_SIGNATURE + png_chunk(b"IDAT", zlib.compress(b"\x00" * 29)) + png_chunk(b"IEND", b""),
               422),
        upload("png-garbage-idat", png(256, 256, idat=bytes(range(256)) * 64), 422),
        upload("png-truncated-4096", png(4096, 4096)[:5000], 422),
        upload("png-ztxt-bomb", ztxt_bomb(), 422),
        # Huge dimensions in the header: refused before any pixel is decoded.
        upload("png-65535-square", png_header_only(65535, 65535), 413),
        upload("png-2e31-wide", png_header_only(2**31 - 1, 1, rows=0), 413),
        upload("png-4097-tall", png_header_only(1, 4097), 413),
        upload("gif-65535-square", gif_header(65535, 65535), 413),
        upload("bmp-60000-square", bmp_header(60000, 60000), 413, "x.bmp"),
        upload("jpeg-sof-65500-square", jpeg_with_sof(65500, 65500), 413, "x.jpg"),
        Case("bomb-as-data-url", "/api/predict", 413, {"json": {"image": data_url(png_header_only(40000, 40000))}}),
        # Read on the event loop (a short data URL): refused after 1 MB of text, not 64 MB (Pillow's default).
        Case("text-chunks-as-data-url", "/api/predict", 422, {"json": {"image": data_url(many_ztxt_chunks())}}),
        # Valid images carrying something abusive that is never read: answered from the first frame / pixels.
        upload("gif-3000-frames", animated_gif(3000), 200, "anim.gif"),
        upload("jpeg-1.8MB-exif-ifd-loop", jpeg_with_huge_exif(), 200, "exif.jpg"),
    ]


# ---- JSON and strings -------------------------------------------------------------------------

LONG = 1_900_000  # characters: a string field that fills the body up to just under the limit


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def json_cases() -> list[Case]:
    png_bytes = encode(draw())
    zeros = ",".join(["0"] * 900_000)
    return [
        # The service issue's list of bad input.
        as_json("not-an-image", {"image": b64(b"hello, not an image")}, 422),
        as_json("truncated-png", {"image": b64(png_bytes[: len(png_bytes) // 2])}, 422),
        as_json("empty-string", {"image": ""}, 422),
        as_json("invalid-base64", {"image": "not*base64!"}, 422),
        as_json("text-data-url", {"image": "data:text/plain;base64,aGVsbG8="}, 422),
        as_json("svg-data-url", {"image": "data:image/svg+xml;base64," + b64(b"<svg/>")}, 422),
        as_json("wrong-types", {"image": 5, "explain": "yes", "model": ["a"]}, 422),
        as_json("783-pixels", {"pixels": [0.5] * 783}, 422),
        as_json("pixel-out-of-range", {"pixels": [2.0] + PIXELS[1:]}, 422),
        raw_json("pixel-nan", b'{"pixels": [NaN' + b", 0" * 783 + b"]}", 422),
        raw_json("pixel-inf", b'{"pixels": [1e999' + b", 0" * 783 + b"]}", 422),
        as_json("batch-of-257", {"items": [{"pixels": PIXELS}] * 257}, 422, "/api/predict/batch"),
        as_json("model-path-traversal", {"pixels": PIXELS, "model": "../../etc/passwd"}, 404),
        # Deeply nested or enormous JSON.
        raw_json("nested-arrays-1M-deep", b"[" * 1_000_000, 422),
        raw_json("nested-objects-deep", b'{"a":' * 350_000, 422),
        raw_json("nested-in-field", b'{"image": ' + b"[" * 500_000 + b"]" * 500_000 + b"}", 422),
        raw_json("nested-in-batch", b'{"items": [' + b"[" * 500_000 + b"]" * 500_000 + b"]}", 422, BATCH),
        raw_json("900k-pixels", ('{"pixels": [' + zeros + "]}").encode(), 422),
        raw_json("600k-batch-items", b'{"items": [' + b",".join([b"{}"] * 600_000) + b"]}", 422, BATCH),
        raw_json("150k-keys", ("{" + ",".join(f'"k{i}":0' for i in range(150_000)) + "}").encode(), 422),
        raw_json("not-utf8", b'{"image": "\xff\xfe\xfd"}', 422),
        raw_json("utf16-bom", "\ufeff{}".encode("utf-16"), 422),
        # Very long strings in every field.
        as_json("long-image", {"image": "A" * LONG}, 422),
        as_json("long-data-url-type", {"image": "data:" + "x" * LONG + ";base64,AAAA"}, 422),
        as_json("long-model", {"pixels": PIXELS, "model": "m" * LONG}, 404),
        as_json("long-unicode-model", {"pixels": PIXELS, "model": "é" * (LONG // 2)}, 404),
        as_json("long-explain", {"pixels": PIXELS, "explain": "y" * LONG}, 422),
        as_json("long-field-name", {"pixels": PIXELS, "x" * LONG: 1}, 422),
        as_json("long-batch-model", {"model": "m" * LONG, "items": [{"pixels": PIXELS}]}, 404, "/api/predict/batch"),
        Case("long-query-model", "/api/predict/file", 404, {"params": {"model": "m" * 6000}, "files": {"file": b"x"}}),
        Case("long-filename", "/api/predict/file", 422, {"files": {"file": ("n" * 100_000 + ".png", b"")}}),
        Case("long-path-model", "/api/models/" + "m" * 6000, 404, method="GET"),
        # Over the body limit, declared and chunked.
        raw_json("over-limit-declared", b'{"image": "' + b"A" * LIMIT + b'"}', 413),
        Case("over-limit-chunked", "/api/predict", 413, {"content": _chunks(), "headers": _JSON}),
        Case("multipart-without-boundary", "/api/predict/file", 422,
             {"content": b"--x\r\n\r\n", "headers": {"content-type": "multipart/form-data"}}),
    ]


_JSON = {"content-type": "application/json"}


def _chunks() -> Any:
    def generate() -> Any:  # an iterator makes httpx send the body chunked, without Content-Length
        yield b'{"image": "'
        for _ in range(48):
            yield b"A" * 65536
        yield b'"}'

    return generate()


UNICODE_NAMES = [
    "ДЕФОЛТ",
    "默认",
    "🤖",
    "\u202edefault",  # right-to-left override
    "ｄｅｆａｕｌｔ",  # fullwidth: must not be normalised into "default"
    "default\u0000",
    "defa\u0301ult",  # combining accent
    "\ud800",  # a lone surrogate (valid in JSON as an escape, not encodable as UTF-8)
    "../default",
    "default.npz",
    "",
]


def unicode_cases() -> list[Case]:
    cases = []
    for index, name in enumerate(UNICODE_NAMES):
        body = json.dumps({"pixels": PIXELS, "model": name}).encode()  # ASCII escapes: a lone surrogate travels
        cases.append(raw_json(f"unicode-model-{index}", body, 404))
        if "\ud800" not in name:
            files = {"file": encode(draw(size=(64, 64), box=(12, 12, 52, 52), width=5))}
            cases.append(Case(f"unicode-query-model-{index}", "/api/predict/file", 404,
                              {"params": {"model": name}, "files": files}))
    return cases


def corpus() -> list[Case]:
    return [*image_cases(), *json_cases(), *unicode_cases()]
