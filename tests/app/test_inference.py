"""app.inference's threads: single drawings take the lane (one at a time, in arrival order), the rest the pool."""

from __future__ import annotations

import threading
import time
from functools import partial

import anyio
import pytest
from PIL import Image

from app import inference
from app.images import image_bytes, read_header
from app.inference import LANE_MAX_CHARS, answer, answer_in_turn, in_thread, takes_the_lane
from app.registry import Registry, load_models
from app.schemas import PredictRequest
from app.settings import Settings
from bench.sample import data_url
from tests.app.helpers import encode

CALLS = 6


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_models(Settings().models_dir, "default")  # the committed weights


def run_together(lane: bool) -> tuple[list[int], int]:
    """Start CALLS jobs one after another on a fresh event loop → (the order they began in, most at once)."""
    began: list[int] = []
    running = most = 0
    lock = threading.Lock()

    def job(number: int) -> None:
        nonlocal running, most
        with lock:
            began.append(number)
            running += 1
            most = max(most, running)
        time.sleep(0.05)  # long enough for every other job to have been started meanwhile
        with lock:
            running -= 1

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for number in range(CALLS):
                group.start_soon(partial(in_thread, job, number, lane=lane))
                await anyio.sleep(0.001)  # the jobs arrive in this order

    anyio.run(main)
    return began, most


def test_the_lane_runs_one_drawing_at_a_time_first_come_first_served() -> None:
    for _ in range(2):  # and again on a second event loop, which makes a lane of its own
        began, most = run_together(lane=True)
        assert (began, most) == (list(range(CALLS)), 1)


def test_the_pool_runs_them_at_once() -> None:
    assert run_together(lane=False)[1] > 1


@pytest.mark.parametrize(
    ("size", "expected"),
    [(None, True), ((280, 280), True), ((1024, 1024), True), ((1025, 1024), False), ((4096, 300), False)],
    ids=["pixels", "canvas", "largest", "one column more", "wide"],
)
def test_what_takes_the_lane(size: tuple[int, int] | None, expected: bool) -> None:
    """By pixels, not bytes: a 4096×4096 PNG of a few strokes is 110 KB and takes 100 times a canvas's time."""
    image = None if size is None else read_header(encode(Image.new("L", size)))
    assert takes_the_lane(image) is expected


def test_a_drawing_is_answered_from_its_header_read_before(registry: Registry) -> None:
    url = data_url(3)
    item = PredictRequest(image=url)
    ahead = answer(registry.get(None), item, read_header(image_bytes(url)))
    assert ahead == answer(registry.get(None), item)
    assert ahead.digit == 3


@pytest.mark.parametrize(
    ("image", "lane", "read_ahead"),
    [
        (data_url(3), True, True),  # a canvas: its header is read on the event loop, and it takes the lane
        (data_url(3) + "\n" * LANE_MAX_CHARS, False, False),  # long: read in the pool, and answered there
    ],
    ids=["canvas", "long data URL"],
)
def test_where_a_drawing_is_answered(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, image: str, lane: bool, read_ahead: bool
) -> None:
    seen: list[tuple[bool, bool]] = []

    async def recording_in_thread(function, *args, lane=False):  # type: ignore[no-untyped-def]
        seen.append((lane, len(args) == 3 and args[2] is not None))
        return function(*args)

    monkeypatch.setattr(inference, "in_thread", recording_in_thread)
    answered = anyio.run(answer_in_turn, registry.get(None), PredictRequest(image=image))
    assert seen == [(lane, read_ahead)] and answered.digit == 3
