"""Builders for the app tests: tiny models, synthetic drawings and encoded image files."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageDraw

from bench.sample import PNG_SIGNATURE, png_chunk
from model.network import Network
from model.weights import save

# A "7": a top bar and a diagonal, in coordinates of a 100×100 box.
SEVEN = [[(20, 15), (80, 15)], [(80, 15), (40, 90)]]
# A "4": three strokes.
FOUR = [[(60, 10), (15, 65), (85, 65)], [(62, 35), (62, 95)]]


def write_models(folder: Path) -> dict[str, Network]:
    """Two small, fast networks in ``folder``: 'default' (784-32-10, ReLU/softmax) and 'classic' (784-16-16-10)."""
    networks = {
        "default": Network([784, 32, 10], ["relu", "softmax"], "cross_entropy", init="he", seed=1),
        "classic": Network([784, 16, 16, 10], "sigmoid", "quadratic", init="xavier", seed=2),
    }
    for name, network in networks.items():
        history = [{"epoch": 1, "loss": 0.5, "seconds": 0.1, "val_accuracy": 0.9}]
        save(
            folder / f"{name}.npz",
            network,
            {"name": name, "history": history, "test_accuracy": 0.91, "created_at": "2026-01-01T00:00:00+00:00"},
        )
    return networks


def draw(
    strokes: list[list[tuple[float, float]]] = SEVEN,
    size: tuple[int, int] = (280, 280),
    box: tuple[float, float, float, float] = (40, 40, 240, 240),
    width: int = 18,
    ink: tuple[int, ...] | int = 0,
    paper: tuple[int, ...] | int = 255,
    mode: str = "L",
) -> Image.Image:
    """Draw ``strokes`` (in a 100×100 box) scaled into ``box`` = (left, top, right, bottom) of a new image."""
    image = Image.new(mode, size, paper)
    pen = ImageDraw.Draw(image)
    left, top, right, bottom = box
    for stroke in strokes:
        points = [(left + x / 100 * (right - left), top + y / 100 * (bottom - top)) for x, y in stroke]
        pen.line(points, fill=ink, width=width, joint="curve")
        r = width / 2  # round caps, like the canvas's lineCap = "round"
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def png_header_only(width: int, height: int, rows: int = 4) -> bytes:
    """A tiny, valid-looking greyscale PNG whose header claims ``width``×``height`` (a decompression bomb's
    header), with the compressed data of only its first ``rows`` rows."""

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * ((width + 1) * rows), 9)
    return PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def centre_of_mass(frame: np.ndarray) -> tuple[float, float]:
    """(28, 28) or (784,) → (row, column) of the centre of mass."""
    frame = frame.reshape(28, 28)
    rows, cols = np.indices(frame.shape)
    return float((frame * rows).sum() / frame.sum()), float((frame * cols).sum() / frame.sum())


def ink_box(frame: np.ndarray, threshold: float = 0.0) -> tuple[int, int]:
    """(28, 28) or (784,) → (height, width) of the bounding box of pixels above ``threshold``."""
    mask = frame.reshape(28, 28) > threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def error(response: httpx.Response, status: int, *fragments: str) -> str:
    """Assert the status and that detail is one string containing every fragment (case-insensitive)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str)
    for fragment in fragments:
        assert fragment.lower() in body["detail"].lower(), body["detail"]
    return body["detail"]
