"""Size limits: the body cap is enforced while streaming, the pixel cap before decoding."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.images import MAX_SIDE, open_image
from app.main import create_app
from app.middleware import DRAIN_BYTES, BodyLimitMiddleware
from app.settings import Settings
from tests.app.helpers import data_url, draw, encode, error, png_header_only

LIMIT = 2 * 1024 * 1024
# app.images turns Pillow's bomb warning into an error at import; pytest resets warning filters per test.
pytestmark = pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")


def test_declared_body_over_the_limit(client: TestClient) -> None:
    body = b'{"image": "' + b"A" * LIMIT + b'"}'
    error(
        client.post("/api/predict", content=body, headers={"content-type": "application/json"}),
        413,
        f"{len(body):,} bytes",
        f"limit is {LIMIT:,} bytes",
    )


def test_chunked_body_over_the_limit(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # a generator: httpx sends it chunked, without Content-Length
        yield b'{"image": "'
        for _ in range(40):
            yield b"A" * 65536
        yield b'"}'

    response = client.post("/api/predict", content=chunks(), headers={"content-type": "application/json"})
    error(response, 413, f"limit of {LIMIT:,} bytes")


def test_upload_over_the_limit(client: TestClient) -> None:
    error(client.post("/api/predict/file", files={"file": ("big.png", b"\0" * (LIMIT + 1))}), 413, "limit")


def test_body_just_under_the_limit_is_read(client: TestClient) -> None:
    padding = " " * (LIMIT - 2000)  # JSON whitespace: a valid body close to the limit
    body = '{"pixels": [' + ",".join(["0"] * 784) + "]" + padding + "}"
    assert len(body) < LIMIT
    assert client.post("/api/predict", content=body, headers={"content-type": "application/json"}).status_code == 200


def test_limit_is_configurable(settings: Settings) -> None:
    small = Settings(models_dir=settings.models_dir, static_dir=settings.static_dir, max_body_bytes=1000)
    with TestClient(create_app(small)) as client:
        error(client.post("/api/predict", json={"pixels": [0] * 784}), 413, "limit is 1,000 bytes")
        assert client.post("/api/predict", json={"image": "x" * 900}).status_code == 422


def run_middleware(body_chunks: int, declared: int | None = None, endless: bool = False) -> tuple[int, int, list]:
    """A naive app that reads a whole body of 1000-byte chunks behind a 10,000-byte limit.

    Returns (chunks pulled from the server, bytes the app was given, messages sent).
    """
    pulled = given = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        assert pulled < 20_000, "read without end"
        return {"type": "http.request", "body": b"x" * 1000, "more_body": endless or pulled < body_chunks}

    async def send(message: dict) -> None:
        sent.append(message)

    async def app(scope: dict, receive_, send_) -> None:  # noqa: ANN001
        nonlocal given
        while True:
            message = await receive_()
            given += len(message["body"])
            if not message["more_body"]:
                break

    headers = [(b"content-length", str(declared).encode())] if declared else [(b"transfer-encoding", b"chunked")]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(BodyLimitMiddleware(app, limit=10_000)(scope, receive, send))
    return pulled, given, sent


def closes(sent: list) -> bool:
    return (b"connection", b"close") in sent[0]["headers"]


def test_middleware_cuts_the_app_off_at_the_limit_and_discards_the_rest() -> None:
    """The app gets 10 chunks (the limit exactly), never the 11th; the rest of the 1 MB body is read and thrown
    away so the client, still sending, can read the 413 (closing on unread data would reset the connection)."""
    pulled, given, sent = run_middleware(1000)
    assert given == 10_000 and pulled == 1000
    assert sent[0]["status"] == 413 and b"limit of 10,000 bytes" in sent[1]["body"]
    assert not closes(sent)  # the whole body was read: the connection can serve the next request


def test_middleware_stops_discarding_an_endless_body() -> None:
    pulled, given, sent = run_middleware(0, endless=True)
    assert given == 10_000
    assert pulled <= 11 + DRAIN_BYTES // 1000 + 2  # the limit, then DRAIN_BYTES discarded, then no more
    assert sent[0]["status"] == 413 and closes(sent)


def test_middleware_refuses_a_declared_length_at_once() -> None:
    """Far over the limit: refused before the app runs and before anything is read; the connection closes."""
    async def receive() -> dict:
        raise AssertionError("the body must not be read")

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def app(scope: dict, receive_, send_) -> None:  # noqa: ANN001
        raise AssertionError("the app must not run")

    declared = 10_000 + DRAIN_BYTES + 1
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", str(declared).encode())]}
    asyncio.run(BodyLimitMiddleware(app, limit=10_000)(scope, receive, send))
    assert sent[0]["status"] == 413 and closes(sent)


def test_middleware_refuses_a_declared_length_after_discarding_it() -> None:
    """Somewhat over the limit: the app never runs, the body is discarded, then the 413 (no reset)."""
    pulled, given, sent = run_middleware(50, declared=50_000)
    assert given == 0 and pulled == 50
    assert sent[0]["status"] == 413 and b"50,000 bytes" in sent[1]["body"] and not closes(sent)


@pytest.mark.parametrize("size", [(MAX_SIDE + 1, 1), (1, MAX_SIDE + 1), (5000, 5000)])
def test_image_over_4096_is_refused(client: TestClient, size: tuple[int, int]) -> None:
    png = encode(Image.new("L", size, 255))  # compresses to a few kilobytes
    assert len(png) < LIMIT
    response = client.post("/api/predict/file", files={"file": ("big.png", png)})
    error(response, 413, "4096×4096")


def test_image_of_4096_is_accepted(client: TestClient) -> None:
    image = draw(size=(MAX_SIDE, 64), box=(2000, 2, 2060, 62), width=6)
    assert client.post("/api/predict/file", files={"file": ("wide.png", encode(image))}).status_code == 200


@pytest.mark.parametrize("side", [40000, 65535])
def test_decompression_bomb_is_refused_fast(client: TestClient, side: int) -> None:
    bomb = png_header_only(side, side)  # ~100 bytes claiming side² pixels (1.6 GB for 40000)
    assert len(bomb) < 1000
    with pytest.raises(Exception, match="too large|exceeds limit|4096"):
        Image.open(io.BytesIO(bomb)).load()  # Pillow itself refuses it too
    start = time.perf_counter()
    response = client.post("/api/predict", json={"image": data_url(bomb)})
    elapsed = time.perf_counter() - start
    error(response, 413, "too large")
    assert elapsed < 0.5, f"took {elapsed:.3f} s"


def test_bomb_is_refused_before_decoding() -> None:
    start = time.perf_counter()
    with pytest.raises(Exception, match="too large"):
        open_image(png_header_only(40000, 40000))
    assert time.perf_counter() - start < 0.05


def test_animated_gif_uses_first_frame_only(client: TestClient) -> None:
    first = draw(size=(64, 64), box=(12, 12, 52, 52), width=5)
    frames = [first]
    for i in range(999):  # a thousand frames; the later ones hold a single dot each (distinct, so none is merged)
        frame = Image.new("L", (64, 64), 255)
        frame.putpixel((i % 64, i // 64), 0)
        frames.append(frame)
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=10)
    image = open_image(gif)
    assert image.n_frames == 1000 and image.tell() == 0
    start = time.perf_counter()
    response = client.post("/api/predict/file", files={"file": ("anim.gif", gif)})
    assert response.status_code == 200 and response.json()["empty"] is False
    assert time.perf_counter() - start < 1.0
