"""app.inference's threads: single drawings take the lane (one at a time, in arrival order), the rest the pool."""

from __future__ import annotations

import threading
import time
from functools import partial

import anyio
import pytest

from app.inference import LANE_MAX_CHARS, in_thread, takes_the_lane
from app.schemas import PredictRequest
from bench.sample import data_url

CALLS = 6


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
        time.sleep(0.02)  # long enough for every other job to have been started meanwhile
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
    for _ in range(2):  # a second event loop gets a lane of its own
        began, most = run_together(lane=True)
        assert (began, most) == (list(range(CALLS)), 1)


def test_the_pool_runs_them_at_once() -> None:
    assert run_together(lane=False)[1] > 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"pixels": [0.0] * 784}, True),
        ({"image": data_url(3)}, True),  # a 280×280 canvas PNG: about 4 KB of base64
        ({"image": "data:image/png;base64," + "A" * LANE_MAX_CHARS}, False),
    ],
    ids=["pixels", "canvas", "large image"],
)
def test_what_takes_the_lane(body: dict[str, object], expected: bool) -> None:
    assert takes_the_lane(PredictRequest.model_validate(body)) is expected
