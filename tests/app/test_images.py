"""Odd but valid images are all accepted, in every format and mode; and the image field's decoding."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image

from app import images, inference
from app.errors import InputError
from app.images import SPNG_MAX_BYTES, SPNG_MAX_PIXELS, image_bytes, open_image
from app.preprocess import WORK_SIDE, Prepared, preprocess
from bench.sample import ENCODINGS, PNG_SIGNATURE, canvas_png, png_chunk, scanlines
from tests.app.helpers import data_url, draw, encode


def seven(mode: str = "L", **kw: object) -> Image.Image:
    return draw(**kw).convert(mode)


def transparent_canvas() -> Image.Image:
    return draw(ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA")


def palette_with_transparency() -> Image.Image:
    image = draw(ink=1, paper=0, mode="P")
    image.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    image.info["transparency"] = 0
    return image


ODD_IMAGES: dict[str, tuple[Callable[[], Image.Image], str, dict]] = {
    "1x1": (lambda: Image.new("L", (1, 1), 0), "PNG", {}),
    "1x3000": (lambda: Image.new("L", (1, 3000), 255), "PNG", {}),
    "3000x1-with-ink": (
        lambda: draw(strokes=[[(0, 50), (100, 50)]], size=(3000, 1), box=(100, 0, 2900, 1), width=1),
        "PNG",
        {},
    ),
    "cmyk-jpeg": (lambda: seven("CMYK"), "JPEG", {"quality": 90}),
    "grey-jpeg": (lambda: seven("L"), "JPEG", {}),
    "rgb-jpeg": (lambda: draw(ink=(200, 20, 20), paper=(255, 255, 255), mode="RGB"), "JPEG", {}),
    "16-bit-png": (lambda: Image.fromarray(np.asarray(draw()).astype(np.uint16) * 257), "PNG", {}),
    "palette-png": (lambda: seven("P"), "PNG", {}),
    "palette-png-transparent": (palette_with_transparency, "PNG", {}),
    "bilevel-png": (lambda: seven("1"), "PNG", {}),
    "la-png": (lambda: seven("LA"), "PNG", {}),
    "rgba-transparent-png": (transparent_canvas, "PNG", {}),
    "gif": (lambda: seven("P"), "GIF", {}),
    "webp": (lambda: seven("RGB"), "WEBP", {"quality": 90}),
    "webp-lossless-rgba": (transparent_canvas, "WEBP", {"lossless": True}),
    "bmp": (lambda: seven("RGB"), "BMP", {}),
    "bmp-bilevel": (lambda: seven("1"), "BMP", {}),
}


@pytest.mark.parametrize("name", list(ODD_IMAGES))
def test_odd_but_valid_images(client: TestClient, name: str) -> None:
    make, fmt, options = ODD_IMAGES[name]
    data = encode(make(), fmt, **options)
    for response in (
        client.post("/api/predict", json={"image": data_url(data, f"image/{fmt.lower()}")}),
        client.post("/api/predict", json={"image": base64.b64encode(data).decode()}),
        client.post("/api/predict/file", files={"file": (f"x.{fmt.lower()}", data)}),
    ):
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["input"]) == 784 and len(body["activations"]) == 10
        if name not in ("1x1", "1x3000"):  # those two have no ink
            assert body["empty"] is False and body["digit"] in range(10), name


@pytest.mark.parametrize("name", ["cmyk-jpeg", "16-bit-png", "palette-png-transparent", "la-png", "webp", "bmp"])
def test_formats_see_the_same_digit(client: TestClient, name: str) -> None:
    make, fmt, options = ODD_IMAGES[name]
    reference = np.array(client.post("/api/predict/file", files={"file": encode(seven())}).json()["input"])
    seen = np.array(client.post("/api/predict/file", files={"file": encode(make(), fmt, **options)}).json()["input"])
    assert np.corrcoef(reference, seen)[0, 1] > 0.95


def test_decoded_modes() -> None:
    assert open_image(encode(seven("CMYK"), "JPEG")).mode == "CMYK"
    assert open_image(encode(ODD_IMAGES["16-bit-png"][0]())).mode.startswith("I")


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_and_read_alike(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phone-sized photo is decoded at half scale (both sides still ≥ 1024, preprocessing's WORK_SIDE) by
    every endpoint, and read as the whole decode would have; other formats, and JPEGs without ``fit``, whole."""
    photo = seven("RGB", size=(3000, 2250), box=(1000, 625, 2000, 1625), width=90)
    data = encode(photo, "JPEG", quality=90)
    assert open_image(data).size == (3000, 2250)
    assert open_image(data, fit=WORK_SIDE).size == (1500, 1125)
    assert open_image(encode(photo.convert("L")), fit=WORK_SIDE).size == (3000, 2250)  # PNG
    full = preprocess(open_image(data)).pixels

    sizes = []  # the size of each image the service preprocesses

    def watched(image: Image.Image) -> Prepared:
        sizes.append(image.size)
        return preprocess(image)

    monkeypatch.setattr(inference, "preprocess", watched)
    answer = client.post("/api/predict/file", files={"file": ("photo.jpg", data)}).json()
    item = {"image": data_url(data, "image/jpeg")}
    assert client.post("/api/predict", json=item).status_code == 200
    assert client.post("/api/predict/batch", json={"items": [item]}).status_code == 200
    assert sizes == [(1500, 1125)] * 3
    assert np.corrcoef(full, answer["input"])[0, 1] > 0.99
    assert answer["digit"] == client.post("/api/predict", json={"pixels": full.tolist()}).json()["digit"]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_photo_is_turned_upright_as_its_exif_says(client: TestClient, orientation: int) -> None:
    """A phone held sideways (6, 8) or upside down (3) stores the picture turned and says so in EXIF."""
    upright = seven("RGB", size=(280, 200), box=(60, 20, 220, 180), width=14)  # not square: a turn shows
    turn = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}[orientation]
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    stored = encode(upright.transpose(turn), "JPEG", quality=95, exif=exif.tobytes())
    assert open_image(stored).size == upright.size

    def seen(data: bytes) -> np.ndarray:
        return np.array(client.post("/api/predict/file", files={"file": data}).json()["input"])

    expected = seen(encode(upright, "JPEG", quality=95))
    assert np.corrcoef(expected, seen(stored))[0, 1] > 0.98
    without_exif = seen(encode(upright.transpose(turn), "JPEG", quality=95))
    assert np.corrcoef(expected, without_exif)[0, 1] < 0.5  # the same pixels read as stored: another picture


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow's; the service ignores Pillow's warnings
def test_a_malformed_exif_block_leaves_the_pixels_as_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(seven("RGB"), "JPEG", exif=b"Exif\x00\x00II*\x00" + b"\xff" * 40)  # Pillow reads no tag
    stored = np.asarray(Image.open(io.BytesIO(data)))
    assert np.array_equal(np.asarray(open_image(data)), stored)

    def unreadable(image: Image.Image) -> Image.Exif:
        raise SyntaxError("not an EXIF block")  # what Pillow's parsers raise for a corrupt structure

    monkeypatch.setattr(Image.Image, "getexif", unreadable)
    assert np.array_equal(np.asarray(open_image(data)), stored)


def pillows_pixels(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    image.load()
    return np.asarray(image)


@pytest.fixture
def libspng(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the files libspng decodes during the test, in order."""
    calls: list[int] = []
    load = images.pyspng.load

    def counted(data: bytes) -> np.ndarray:
        calls.append(len(data))
        return load(data)

    monkeypatch.setattr(images.pyspng, "load", counted)
    return calls


@pytest.fixture
def unfiltered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each canvas PNG during the test, whether ``unfiltered_rgba`` decoded it (zlib-ng; else libspng)."""
    calls: list[bool] = []
    decode = images.unfiltered_rgba

    def watched(stream: bytes, width: int, height: int) -> np.ndarray | None:
        pixels = decode(stream, width, height)
        calls.append(pixels is not None)
        return pixels

    monkeypatch.setattr(images, "unfiltered_rgba", watched)
    return calls


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_canvas_png_is_decoded_fast_to_pillows_pixels(
    encoding: str, libspng: list[int], unfiltered: list[bool]
) -> None:
    data = canvas_png(3, encoding=encoding)
    decoded = open_image(data)
    if encoding == "Firefox":  # no row filtered: inflated by zlib-ng, and the rows are the pixels
        assert unfiltered == [True] and libspng == []
    else:  # rows filtered Up (Chromium) or each its own way (Pillow): libspng
        assert unfiltered == [False] and libspng == [len(data)]
    assert decoded.mode == "RGBA" and decoded.size == (280, 280)
    assert np.array_equal(np.asarray(decoded), pillows_pixels(data))


def rgba_png(pixels: np.ndarray, rows: bytes | None = None, stream: bytes | None = None, idats: int = 1) -> bytes:
    """A PNG of (H, W, 4) uint8 pixels with no row filtered; or of the given rows (filter bytes included), or the
    given compressed stream, under the pixels' header; the stream cut into ``idats`` IDAT chunks."""
    height, width, _ = pixels.shape
    if stream is None:
        stream = zlib.compress(rows if rows is not None else scanlines(pixels, "none"))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    cuts = np.linspace(0, len(stream), idats + 1).astype(int)
    parts = [(b"IDAT", stream[start:end]) for start, end in zip(cuts[:-1], cuts[1:])]
    return png_of([(b"IHDR", header), *parts, (b"IEND", b"")])


def canvas_pixels() -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(canvas_png(3))).convert("RGBA"))


def test_a_png_unfiltered_but_for_one_row_is_decoded_by_libspng(libspng: list[int], unfiltered: list[bool]) -> None:
    pixels = canvas_pixels()
    rows = [b"\x00" + row.tobytes() for row in pixels]
    row = pixels[140].astype(np.int16)
    sub = (row - np.pad(row, ((1, 0), (0, 0)))[:-1]) % 256  # filter 1, "Sub": each byte less the byte 4 before it
    rows[140] = b"\x01" + sub.astype(np.uint8).tobytes()
    data = rgba_png(pixels, rows=b"".join(rows))
    assert np.array_equal(np.asarray(open_image(data)), pixels)
    assert unfiltered == [False] and libspng == [len(data)]


def test_an_unfiltered_png_with_a_wrong_checksum_is_decoded_by_libspng(
    libspng: list[int], unfiltered: list[bool]
) -> None:
    """zlib-ng checks the stream's Adler-32 and gives the file up; libspng, which checks no checksum, reads it. The
    pixels are intact: the chunks' CRCs, right, say the file is as its encoder wrote it."""
    pixels = canvas_pixels()
    stream = bytearray(zlib.compress(scanlines(pixels, "none")))
    stream[-1] ^= 1  # the Adler-32's last byte
    data = rgba_png(pixels, stream=bytes(stream))
    assert np.array_equal(np.asarray(open_image(data)), pixels)
    assert unfiltered == [False] and libspng == [len(data)]


UNFILTERED: dict[str, Callable[[], bytes]] = {
    "a canvas wider than tall": lambda: rgba_png(canvas_pixels()[:200]),
    "its stream in three IDATs": lambda: rgba_png(canvas_pixels(), idats=3),
    "1×1": lambda: rgba_png(np.array([[[255, 255, 255, 128]]], np.uint8)),
    "all transparent": lambda: rgba_png(np.zeros((280, 280, 4), np.uint8)),
}


@pytest.mark.parametrize("name", list(UNFILTERED))
def test_unfiltered_pngs_are_inflated_by_zlib_ng_to_pillows_pixels(name: str, unfiltered: list[bool]) -> None:
    data = UNFILTERED[name]()
    assert np.array_equal(np.asarray(open_image(data)), pillows_pixels(data))
    assert unfiltered == [True]


def test_an_unfiltered_stream_is_taken_only_whole_and_checked() -> None:
    pixels = canvas_pixels()[:100]
    height, width, _ = pixels.shape
    stream = zlib.compress(scanlines(pixels, "none"))
    assert np.array_equal(images.unfiltered_rgba(stream, width, height), pixels)
    assert images.unfiltered_rgba(stream[:-4], width, height) is None  # every pixel there, but not the Adler-32
    assert images.unfiltered_rgba(stream, height, width) is None  # the stream holds other rows than these


def test_a_png_whose_idats_are_apart_is_refused_as_pillow_refuses_it(unfiltered: list[bool]) -> None:
    stream = zlib.compress(scanlines(canvas_pixels(), "none"))
    data = with_chunk_before_idat(rgba_png(canvas_pixels(), stream=stream, idats=2), b"gAMA", b"\x00\x00\xb1\x8f")
    ihdr, first_idat = 8 + 25, 8 + 25 + 16  # after IHDR, then after the inserted gAMA
    second_idat = first_idat + 12 + struct.unpack_from(">I", data, first_idat)[0]
    data = data[:ihdr] + data[first_idat:second_idat] + data[ihdr:first_idat] + data[second_idat:]  # IDAT gAMA IDAT
    with pytest.raises(OSError):
        pillows_pixels(data)
    with pytest.raises(InputError, match="The PNG image could not be decoded"):
        open_image(data)
    assert unfiltered == []


UNFILTERED_BUT_WRONG: dict[str, Callable[[np.ndarray], bytes]] = {
    "a row short": lambda pixels: rgba_png(pixels, rows=scanlines(pixels[:-1], "none")),
    "a row over": lambda pixels: rgba_png(pixels, rows=scanlines(pixels[[0, *range(len(pixels))]], "none")),
    "bytes after the stream": lambda pixels: rgba_png(
        pixels, stream=zlib.compress(scanlines(pixels, "none")) + b"more"
    ),
    "a truncated stream": lambda pixels: rgba_png(pixels, stream=zlib.compress(scanlines(pixels, "none"))[:-20]),
}


@pytest.mark.parametrize("name", list(UNFILTERED_BUT_WRONG))
def test_an_unfiltered_png_whose_stream_is_wrong_is_read_as_pillow_reads_it(name: str, unfiltered: list[bool]) -> None:
    """Its chunks' CRCs are right (the fault was there before they were computed): zlib-ng must not answer for it."""
    data = UNFILTERED_BUT_WRONG[name](canvas_pixels())
    try:
        expected = pillows_pixels(data)
    except OSError:
        with pytest.raises(InputError, match="The PNG image could not be decoded"):
            open_image(data)
    else:
        assert np.array_equal(np.asarray(open_image(data)), expected)
    assert unfiltered == [False]


def test_the_largest_canvas_png_takes_libspng_and_so_do_uploads(client: TestClient, libspng: list[int]) -> None:
    side = int(SPNG_MAX_PIXELS**0.5)
    assert np.array_equal(np.asarray(open_image(canvas_png(3, side))), pillows_pixels(canvas_png(3, side)))
    assert client.post("/api/predict/file", files={"file": canvas_png(3)}).status_code == 200
    assert libspng == [len(canvas_png(3, side)), len(canvas_png(3))]


def png_of(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return PNG_SIGNATURE + b"".join(png_chunk(kind, payload) for kind, payload in chunks)


def sixteen_bit_rgba_png() -> bytes:
    """A 16-bit RGBA PNG (Pillow writes none): a 2×2 grey square, opaque."""
    rows = b"".join(b"\x00" + (b"\x80\x00" * 3 + b"\xff\xff") * 2 for _ in range(2))  # filter 0; R, G, B, A of 2 bytes
    header = struct.pack(">IIBBBBB", 2, 2, 16, 6, 0, 0, 0)
    return png_of([(b"IHDR", header), (b"IDAT", zlib.compress(rows)), (b"IEND", b"")])


def with_chunk_before_idat(data: bytes, kind: bytes, payload: bytes) -> bytes:
    """A PNG of one IDAT with another chunk inserted after IHDR."""
    ihdr_end = 8 + 12 + 13
    return data[:ihdr_end] + png_chunk(kind, payload) + data[ihdr_end:]


def turned_by(how: str) -> bytes:
    """The canvas stored a quarter turn round, with orientation 6 in EXIF (eXIf), XMP (iTXt) or ImageMagick's text."""
    stored = encode(transparent_canvas().transpose(Image.Transpose.ROTATE_90))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    if how == "exif":
        return with_chunk_before_idat(stored, b"eXIf", exif.tobytes())
    if how == "xmp":
        xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        xmp += '<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>'
        xmp += "</rdf:RDF></x:xmpmeta>"
        return with_chunk_before_idat(stored, b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp.encode())
    raw = exif.tobytes()
    text = f"\nexif\n{len(raw):8d}\n{raw.hex()}\n".encode()  # ImageMagick's "Raw profile type exif"
    return with_chunk_before_idat(stored, b"tEXt", b"Raw profile type exif\x00" + text)


def interlaced_png() -> bytes:
    """A 1×1 RGBA PNG, interlaced (Adam7): its one pixel is all of the first pass."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 1)
    return png_of([(b"IHDR", header), (b"IDAT", zlib.compress(b"\x00\xff\x80\x00\xc0")), (b"IEND", b"")])


OTHER_PNGS: dict[str, Callable[[], bytes]] = {
    "rgb": lambda: encode(seven("RGB")),
    "interlaced": interlaced_png,
    "grey": lambda: encode(seven("L")),
    "16-bit rgba": sixteen_bit_rgba_png,
    "animated": lambda: encode(transparent_canvas(), save_all=True, append_images=[Image.new("RGBA", (280, 280))]),
    "a text chunk": lambda: with_chunk_before_idat(canvas_png(3), b"tEXt", b"Comment\x00drawn on a canvas"),
    "a pixel over SPNG_MAX_PIXELS": lambda: encode(Image.new("RGBA", (SPNG_MAX_PIXELS // 1024 + 1, 1024))),
    "a byte over SPNG_MAX_BYTES": lambda: encode(
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200, 4), dtype=np.uint8))
    ),
}


@pytest.mark.parametrize("name", list(OTHER_PNGS))
def test_other_pngs_are_decoded_by_pillow(name: str, libspng: list[int]) -> None:
    data = OTHER_PNGS[name]()
    decoded = open_image(data)
    assert libspng == []
    assert np.array_equal(np.asarray(decoded), pillows_pixels(data))
    if name == "a byte over SPNG_MAX_BYTES":
        assert len(data) > SPNG_MAX_BYTES


@pytest.mark.parametrize("how", ["exif", "xmp", "raw profile"])
def test_a_png_is_turned_as_its_metadata_says(how: str, libspng: list[int]) -> None:
    data = turned_by(how)
    assert pillows_pixels(data).shape == (280, 280, 4) and np.asarray(open_image(data)).shape == (280, 280, 4)
    assert np.array_equal(np.asarray(open_image(data)), np.asarray(transparent_canvas()))
    assert libspng == []


@pytest.mark.parametrize("encoding", ["Chromium", "Firefox"])
def test_a_damaged_canvas_png_is_read_as_pillow_reads_it(
    encoding: str, libspng: list[int], unfiltered: list[bool]
) -> None:
    """libspng, as pyspng calls it, checks no checksum and would turn damaged pixel data into wrong pixels: the
    chunks' CRCs send a damaged file to Pillow, whose answer (an error, or what it reads) stays what it was."""
    data = canvas_png(3, encoding=encoding)
    idat = data.index(b"IDAT") + 4  # the first byte of the compressed pixels
    damaged_files = [data[: len(data) // 2]]
    for position in [*range(idat + 2, idat + 400, 7), data.index(b"IEND") - 5]:  # pixels, IDAT's CRC
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        damaged_files.append(bytes(damaged))
    refused = 0
    for damaged in damaged_files:
        try:
            expected = pillows_pixels(damaged)
        except OSError:
            with pytest.raises(InputError, match="The PNG image could not be decoded"):
                open_image(damaged)
            refused += 1
        else:
            assert np.array_equal(np.asarray(open_image(damaged)), expected)
    assert libspng == [] and unfiltered == []
    assert refused > len(damaged_files) / 2  # most damage is refused


def test_data_url_forms() -> None:
    png = encode(seven())
    b64 = base64.b64encode(png).decode()
    assert image_bytes(f"data:image/png;base64,{b64}") == png
    assert image_bytes(f"DATA:IMAGE/PNG;BASE64,{b64}") == png
    assert image_bytes(f"data:image/jpeg;charset=x;base64,{b64}") == png  # the declared type may be a sibling
    assert image_bytes(b64) == png
    assert image_bytes(b64.rstrip("=")) == png  # missing padding is tolerated
    wrapped = "\n".join(b64[i : i + 76] for i in range(0, len(b64), 76))  # MIME-style line breaks
    assert image_bytes(f"  {wrapped}\n") == png


@pytest.mark.parametrize(
    "text",
    ["", "data:text/html;base64,PGI+", "data:image/svg+xml,<svg/>", "data:application/octet-stream;base64,AAAA", "€€€"],
)
def test_image_field_rejections(text: str) -> None:
    with pytest.raises(InputError) as caught:
        image_bytes(text)
    assert caught.value.status_code == 422 and caught.value.detail


def test_truncated_gif_and_jpeg() -> None:
    for data in (encode(seven("P"), "GIF"), encode(seven(), "JPEG")):
        with pytest.raises(InputError, match="could not be decoded|not an image|malformed"):
            open_image(data[: len(data) // 2])
