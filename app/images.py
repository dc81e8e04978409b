"""From what a client sends to a decoded Pillow image, refusing anything unsafe before decoding it.

- ``image_bytes(text)``: a data URL (what ``canvas.toDataURL()`` returns) or bare base64 → bytes.
- ``open_image(data)``: bytes → a loaded ``PIL.Image`` (first frame only), in two steps that may run
  apart: ``read_header(data)`` checks the format is one we accept and the header's width and height
  are at most ``MAX_SIDE``, and ``decode(image)`` reads the pixels. Pillow's ``Image.open`` only reads
  the header, so an oversized image or a decompression bomb (a tiny PNG claiming 40000×40000 pixels)
  is refused in microseconds without decoding any pixel. A PNG as browsers write a canvas (8-bit RGBA,
  no metadata) is decoded by libspng (pyspng): Chromium's in a quarter of Pillow's time; with no row filtered
  (Firefox's), by zlib-ng and a reshape, in a fifth of libspng's. Anything else by Pillow.
  With ``fit``, a large JPEG (a phone's photo) is decoded at a reduced scale that still holds ``fit``
  pixels a side: only what is needed. A photo is turned upright as its EXIF orientation says.

Every failure raises ``InputError`` (422, or 413 for an image that is too large).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
import warnings
import zlib

import numpy as np
import pyspng
from PIL import ExifTags, Image, ImageOps, PngImagePlugin, UnidentifiedImageError
from zlib_ng import zlib_ng

from app.errors import InputError, shorten

MAX_SIDE = 4096
# pyspng holds the GIL while libspng decodes, where Pillow lets go of it: a drawing of 512×512 takes up to 1.8 ms
# (zlib level 6; 0.4 ms as Chromium writes it), one of 1024×1024 up to 7.5 ms, 2 MB of noise 11 ms. Larger PNGs
# go to Pillow, so that the GIL is never held longer than the 5 ms Python itself lets a thread keep it.
SPNG_MAX_PIXELS = 512 * 512
SPNG_MAX_BYTES = 96 * 1024  # any canvas drawing's file; its base64 is the lane's bound (app.inference.LANE_MAX_CHARS)
# The chunks of a PNG that libspng decodes: what canvases write, and those that change no pixel Pillow reads. Any
# other (text, XMP or EXIF, which may hold an orientation; an animation) sends the PNG to Pillow.
CANVAS_CHUNKS = {b"IHDR", b"IDAT", b"IEND", b"sRGB", b"gAMA", b"pHYs"}
MAX_CANVAS_CHUNKS = 64  # a canvas's PNG has a handful; a file of thousands of tiny chunks goes to Pillow
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")  # Pillow's JPEG opener also reads phone cameras' MPO files
MEDIA_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/bmp", "image/x-ms-bmp", "image/gif"}
ACCEPTED = "Accepted: PNG, JPEG, WebP, BMP or GIF, at most 4096×4096 pixels."

# Pillow warns above MAX_IMAGE_PIXELS and raises above twice that. No accepted image has more
# than MAX_SIDE² pixels, so anything Pillow warns about is refused anyway: make it an error.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE
warnings.simplefilter("error", Image.DecompressionBombWarning)
# Pillow's UserWarnings are about metadata it skipped as corrupt (EXIF tags, text chunks), one per distinct
# message: a crafted JPEG with thousands of bad EXIF tags would print thousands of lines to the log from a
# single request. The service reads no metadata, so they say nothing it could act on.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
# Reading a PNG's header inflates its compressed text chunks (up to 64 MB by default: 130–170 ms of CPU for
# an 85 KB file). The service reads no metadata; a file with more than this much text is refused as malformed.
PngImagePlugin.MAX_TEXT_CHUNK = PngImagePlugin.MAX_TEXT_MEMORY = 1024 * 1024

_DATA_URL = re.compile(r"^data:(?P<type>[^;,]*)(?P<params>(;[^;,]*)*),(?P<data>.*)$", re.DOTALL | re.IGNORECASE)


def image_bytes(text: str) -> bytes:
    """Decode the ``image`` field: ``data:image/png;base64,....`` or bare base64 → the file's bytes."""
    text = text.strip()
    if not text:
        raise InputError(f"'image' is an empty string. {ACCEPTED} Send it as a data URL or bare base64.")
    payload = text
    if text[:5].lower() == "data:":
        match = _DATA_URL.match(text)
        if match is None:
            raise InputError("'image' starts with 'data:' but is not a data URL (no comma before the data).")
        media_type = match["type"].strip().lower()
        if media_type not in MEDIA_TYPES:
            shown = shorten(media_type) or "text/plain (the default when none is given)"
            raise InputError(f"'image' is a data URL of type {shown}, which is not a supported image. {ACCEPTED}")
        if ";base64" not in match["params"].lower():
            raise InputError("'image' is a data URL without ';base64'; send the image base64-encoded.")
        payload = match["data"]
    payload = "".join(payload.split())  # line breaks and spaces: 10 times faster than re.sub on 2 MB
    payload += "=" * (-len(payload) % 4)  # tolerate missing padding
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            "'image' is not valid base64 (only A-Z, a-z, 0-9, '+', '/' and '=' padding are allowed). "
            "Send a data URL such as canvas.toDataURL() returns, or the file's bytes in base64."
        ) from None
    if not data:
        raise InputError(f"'image' decodes to zero bytes. {ACCEPTED}")
    return data


def open_image(data: bytes, fit: int | None = None) -> Image.Image:
    """Bytes of an image file → a fully loaded Pillow image of its first frame; raise InputError otherwise."""
    return decode(read_header(data), fit)


def read_header(data: bytes) -> Image.Image:
    """Bytes of an image file → a Pillow image whose header is read and checked, its pixels not yet decoded."""
    if not data:
        raise InputError(f"The image file is empty. {ACCEPTED}")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise InputError(f"The image is too large to decode ({err}). {ACCEPTED}", 413) from None
    except UnidentifiedImageError:
        raise InputError(f"The data is not an image in an accepted format. {ACCEPTED}") from None
    except Exception as err:  # Pillow's header parsers raise many types on malformed files
        raise InputError(f"The image header is malformed ({type(err).__name__}: {err}). {ACCEPTED}") from None
    width, height = image.size
    if width > MAX_SIDE or height > MAX_SIDE:
        raise InputError(f"The image is {width}×{height} pixels; the limit is {MAX_SIDE}×{MAX_SIDE}.", 413)
    if width < 1 or height < 1:
        raise InputError(f"The image is {width}×{height} pixels; it has no pixels to read.")
    return image


def decode(image: Image.Image, fit: int | None = None) -> Image.Image:
    """An image from ``read_header`` → the same image with its first frame's pixels loaded; raise InputError.

    With ``fit``, a JPEG is decoded at the smallest of libjpeg's scales (1/2, 1/4, 1/8; Pillow's ``draft``)
    that keeps both sides at least ``fit`` pixels: a 3000×2250 photo at 1/2, in a third of the time, when the
    caller would shrink it to ``fit`` anyway. Other formats are decoded whole. The image is then turned as its
    EXIF orientation says (``upright``). A canvas's PNG is decoded by libspng (``decode_canvas_png``).
    """
    canvas = decode_canvas_png(image)
    if canvas is not None:
        return canvas
    try:
        if fit is not None:
            image.draft(image.mode, (fit, fit))  # a no-op for formats other than JPEG
        image.load()  # the first frame only: GIF, WebP and APNG animations are not read further
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise InputError(f"The image is too large to decode ({err}). {ACCEPTED}", 413) from None
    except Exception as err:  # truncated data, bad checksums, broken compressed streams …
        raise InputError(f"The {image.format} image could not be decoded ({err}); is the file complete?") from None
    return upright(image)


def decode_canvas_png(image: Image.Image) -> Image.Image | None:
    """An image from ``read_header`` that is a PNG as browsers write a canvas → its pixels, decoded by libspng;
    None for any other image, and for any that libspng cannot decode (Pillow then decodes it, or says what is wrong).

    The 280×280 drawing as Chromium writes it takes 0.1 ms in libspng against 0.4-0.5 ms in Pillow, which
    inflates it a row at a time (docs/performance.md); as Firefox writes it, with no row filtered, 0.05 ms in
    ``unfiltered_rgba``. Only a canvas-sized PNG (SPNG_MAX_PIXELS, SPNG_MAX_BYTES) whose chunks are intact and all
    CANVAS_CHUNKS (``canvas_png_stream``) takes this way: its pixels are Pillow's.
    """
    if image.format != "PNG" or image.width * image.height > SPNG_MAX_PIXELS or not isinstance(image.fp, io.BytesIO):
        return None
    data = image.fp.getvalue()  # the whole file, as read_header wrapped it
    stream = canvas_png_stream(data) if len(data) <= SPNG_MAX_BYTES else None
    if stream is None:
        return None
    pixels = unfiltered_rgba(stream, image.width, image.height)  # no row filtered (Firefox's): a fifth of the time
    if pixels is None:
        try:
            pixels = pyspng.load(data)  # (H, W, 4) uint8
        except Exception:  # e.g. a truncated stream: Pillow's decode then says what is wrong
            return None
    if pixels.shape != (image.height, image.width, 4):  # not what Pillow read from the header: Pillow decides
        return None
    return Image.fromarray(pixels)


def canvas_png_stream(data: bytes) -> bytes | None:
    """The compressed pixels (its IDAT chunks' data, joined) of a PNG file that is 8-bit RGBA, not interlaced, made
    of CANVAS_CHUNKS only (at most MAX_CANVAS_CHUNKS), each with its CRC right, its IDATs one after the other: what a
    canvas sends, intact. None for any other file.

    libspng, as pyspng calls it, checks no checksum (neither the chunks' CRCs nor zlib's Adler-32), so damaged
    pixel data would come out as wrong pixels where Pillow refuses it; the CRCs, checked here in microseconds,
    catch any damage in transit.
    """
    view = memoryview(data)
    stream = []
    position, previous = 8, b""  # after the signature
    for _ in range(MAX_CANVAS_CHUNKS):
        if position + 12 > len(data):
            return None
        length, kind = struct.unpack_from(">I4s", data, position)  # a chunk: length, type, its data, CRC of type + data
        end = position + 12 + length
        if kind not in CANVAS_CHUNKS or end > len(data) or (position == 8) != (kind == b"IHDR"):
            return None
        if zlib.crc32(view[position + 4 : end - 4]) != int.from_bytes(view[end - 4 : end], "big"):
            return None
        # IHDR: width, height, then bit depth 8, colour type 6 (RGBA), compression 0, filter method 0, not interlaced
        if kind == b"IHDR" and view[position + 16 : position + 21] != bytes((8, 6, 0, 0, 0)):
            return None
        if kind == b"IDAT":
            if stream and previous != b"IDAT":  # IDATs apart: Pillow reads only the first run, and refuses the file
                return None
            stream.append(view[position + 8 : end - 4])
        if kind == b"IEND":
            return b"".join(stream)
        position, previous = end, kind
    return None


def unfiltered_rgba(stream: bytes, width: int, height: int) -> np.ndarray | None:
    """The compressed pixels of a canvas's PNG (``canvas_png_stream``) → its pixels (height, width, 4) uint8, when
    no row is filtered (Firefox writes them so); None when a row is, or the stream does not hold the image whole.

    An unfiltered row is the pixels themselves after a 0, the row's filter type. What costs is inflating them: an
    unfiltered canvas repeats a few bytes (a transparent pixel is 4 zeros) over and over, which zlib 1.2's inflate
    (libspng's) copies a few bytes at a time, and zlib-ng a vector at a time: 0.54 against 0.03 ms for Firefox's
    280×280 drawing. (Pillow inflates with zlib-ng too, but a row at a time.) Other filters need a pass over the
    rows (NumPy's cumulative sum undoes Chromium's "Up" in 0.7 ms): libspng undoes them.
    """
    row_bytes = 1 + 4 * width  # the filter type, then R, G, B, A of each pixel
    try:
        if zlib_ng.decompressobj().decompress(stream, 1) != b"\x00":  # the first row's filter: one byte to inflate
            return None
        inflater = zlib_ng.decompressobj()
        raw = inflater.decompress(stream, row_bytes * height + 1)  # never more than the image: no bomb
    except zlib_ng.error:  # a broken stream or a wrong checksum: libspng, then Pillow, say what is wrong
        return None
    if len(raw) != row_bytes * height or not inflater.eof or inflater.unused_data:
        return None
    rows = np.frombuffer(raw, np.uint8).reshape(height, row_bytes)
    if rows[:, 0].any():  # a filtered row after all
        return None
    return rows[:, 1:].reshape(height, width, 4)


def upright(image: Image.Image) -> Image.Image:
    """A loaded image → the same turned as its EXIF orientation says, if it says to turn it.

    A phone held sideways or upside down stores its photo as the sensor saw it and says in EXIF how to
    turn it; read as stored, the digit would lie on its side.
    """
    try:
        if image.getexif().get(ExifTags.Base.Orientation) not in range(2, 9):  # 1: as stored; others: not valid
            return image
        return ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block: the pixels as stored are the best guess
        return image
