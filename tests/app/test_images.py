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

from app import inference
from app.errors import InputError
from app.images import SPNG_MAX_PIXELS, image_bytes, open_image
from app.preprocess import WORK_SIDE, Prepared, preprocess
from bench.sample import ENCODINGS, canvas_png
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


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_canvas_png_is_decoded_by_libspng_to_pillows_pixels(encoding: str) -> None:
    data = canvas_png(3, encoding=encoding)
    decoded = open_image(data)
    assert decoded.format is None  # made from libspng's array; Pillow's own decoding keeps "PNG"
    assert decoded.mode == "RGBA" and decoded.size == (280, 280)
    assert np.array_equal(np.asarray(decoded), pillows_pixels(data))


def sixteen_bit_rgba_png() -> bytes:
    """A 16-bit RGBA PNG (Pillow writes none): a 2×2 grey square, opaque."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    rows = b"".join(b"\x00" + (b"\x80\x00" * 3 + b"\xff\xff") * 2 for _ in range(2))  # filter 0; R, G, B, A of 2 bytes
    header = struct.pack(">IIBBBBB", 2, 2, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def animated_png() -> bytes:
    first, second = transparent_canvas(), Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    return encode(first, "PNG", save_all=True, append_images=[second])


def png_with_exif() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    return encode(transparent_canvas(), "PNG", exif=exif.tobytes())


OTHER_PNGS: dict[str, Callable[[], bytes]] = {
    "rgb": lambda: encode(seven("RGB")),
    "grey": lambda: encode(seven("L")),
    "16-bit rgba": sixteen_bit_rgba_png,
    "animated": animated_png,
    "exif": png_with_exif,
    "over SPNG_MAX_PIXELS": lambda: encode(Image.new("RGBA", (SPNG_MAX_PIXELS // 1024 + 1, 1024), (0, 0, 0, 0))),
}


@pytest.mark.parametrize("name", list(OTHER_PNGS))
def test_other_pngs_are_decoded_by_pillow(name: str) -> None:
    """What a canvas never sends goes to Pillow, which honours what libspng's way would not (EXIF, 16 bits)."""
    data = OTHER_PNGS[name]()
    decoded = open_image(data)
    if name == "exif":  # turned upright as its EXIF orientation 6 says (a new image, which has no format)
        assert np.array_equal(np.asarray(decoded), np.rot90(pillows_pixels(data), -1))
    else:
        assert decoded.format == "PNG"
        assert np.array_equal(np.asarray(decoded), pillows_pixels(data))


def test_a_broken_canvas_png_gets_pillows_error() -> None:
    data = canvas_png(3)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # in the compressed pixels
    for broken in (data[: len(data) // 2], bytes(flipped)):
        with pytest.raises(InputError, match="The PNG image could not be decoded"):
            open_image(broken)


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
