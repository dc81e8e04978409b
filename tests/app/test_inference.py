"""app.inference's threads: single drawings take the lane (one group at a time, in arrival order), the rest the pool."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial

import anyio
import pytest
from PIL import Image

from app import inference
from app.errors import InputError
from app.images import image_bytes, read_header
from app.inference import (
    LANE_MAX_CHARS,
    Lane,
    Ticket,
    answer,
    answer_in_turn,
    answer_together,
    in_thread,
    takes_the_lane,
)
from app.registry import Registry, load_models
from app.schemas import PredictRequest
from app.settings import Settings
from bench.sample import data_url
from tests.app.helpers import encode

CALLS = 6


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_models(Settings().models_dir, "default")  # the committed weights


class Recorder:
    """Stands in for a thread's work: records what ran together and how many ran at once, 100 ms each."""

    def __init__(self) -> None:
        self.groups: list[list[object]] = []
        self.running = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, *work: object) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.1)  # long enough for every other call to have been started meanwhile
        with self.lock:
            self.running -= 1
            self.groups.append(work)

    def answer_together(self, waiting: deque[Ticket], group: list[Ticket]) -> None:
        group.extend(waiting)
        waiting.clear()
        self(*(ticket.item for ticket in group))
        for ticket in group:
            ticket.answer = ticket.item  # type: ignore[assignment]


def arriving(
    call: Callable[[int], Awaitable[object]], count: int = CALLS, cancel: dict[int, float] | None = None
) -> list[object]:
    """Start ``call(number)`` for each number, 10 ms apart, on a fresh event loop; cancel those in ``cancel``
    that many seconds after they started. → the results, in the order of the numbers (None: cancelled)."""
    results: list[object] = [None] * count

    async def one(number: int, scope: anyio.CancelScope) -> None:
        with scope:
            results[number] = await call(number)

    async def cancel_later(scope: anyio.CancelScope, seconds: float) -> None:
        await anyio.sleep(seconds)
        scope.cancel()

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for number in range(count):
                scope = anyio.CancelScope()
                group.start_soon(one, number, scope)
                if cancel and number in cancel:
                    group.start_soon(cancel_later, scope, cancel[number])
                await anyio.sleep(0.01)  # they arrive in this order, after the first one's thread has started

    anyio.run(main)
    return results


def test_the_lane_answers_those_waiting_together_first_come_first_served(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(2):  # and again on a second event loop, which makes a lane of its own
        recorder = Recorder()
        monkeypatch.setattr(inference, "answer_together", recorder.answer_together)
        results = arriving(lambda number: inference.the_lane().answer(None, number, None))  # type: ignore[arg-type]
        # The first drawing runs alone; the five that came meanwhile wait, then run in one call, in order.
        assert recorder.groups == [(0,), (1, 2, 3, 4, 5)] and recorder.most == 1
        assert results == list(range(CALLS))  # each caller gets its own answer


def test_a_drawing_cancelled_before_its_turn_is_not_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(inference, "answer_together", recorder.answer_together)
    lane = Lane()
    results = arriving(lambda number: lane.answer(None, number, None), count=3, cancel={1: 0.01})  # type: ignore[arg-type]
    assert recorder.groups == [(0,), (2,)] and results == [0, None, 2]


def test_a_group_is_answered_even_if_the_drawing_that_took_it_is_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(inference, "answer_together", recorder.answer_together)
    lane = Lane()
    # Drawing 1 takes 1, 2 and 3 into a group at 100 ms, and is cancelled at 160 ms, in the middle of it.
    results = arriving(lambda number: lane.answer(None, number, None), count=4, cancel={1: 0.15})  # type: ignore[arg-type]
    assert recorder.groups == [(0,), (1, 2, 3)]
    assert results[0] == 0 and results[2:] == [2, 3]  # (1's own answer came before its cancellation could)


def test_a_bug_one_drawing_triggers_fails_only_its_own_request(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_predict = inference.predict

    def fragile_predict(loaded, prepared, explain):  # type: ignore[no-untyped-def]
        if any(p.pixels[0] == 1.0 for p in prepared):
            raise ValueError("a bug")
        return real_predict(loaded, prepared, explain)

    monkeypatch.setattr(inference, "predict", fragile_predict)
    blank, dotted = [0.0] * 784, [1.0] + [0.0] * 783
    tickets = [Ticket(registry.get(None), PredictRequest(pixels=pixels), None) for pixels in (blank, dotted, blank)]
    answer_together(deque(tickets), [])
    assert tickets[0].outcome().empty and tickets[2].outcome().empty
    with pytest.raises(ValueError, match="a bug"):
        tickets[1].outcome()


@pytest.mark.parametrize(("most", "groups"), [(32, [6]), (2, [2, 2, 2])], ids=["joined", "at most 2"])
def test_drawings_arriving_while_a_group_is_prepared_join_it(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, most: int, groups: list[int]
) -> None:
    real_prepare, real_predict = inference.prepare_one, inference.predict
    sizes: list[int] = []

    def slow_prepare(item, image=None):  # type: ignore[no-untyped-def]
        time.sleep(0.02)  # the drawings, 10 ms apart, arrive while the group is being prepared
        return real_prepare(item, image)

    def recording_predict(loaded, prepared, explain):  # type: ignore[no-untyped-def]
        sizes.append(len(prepared))
        return real_predict(loaded, prepared, explain)

    monkeypatch.setattr(inference, "prepare_one", slow_prepare)
    monkeypatch.setattr(inference, "predict", recording_predict)
    monkeypatch.setattr(inference, "MAX_GROUP", most)
    lane = Lane()
    item = PredictRequest(pixels=[0.0] * 784)
    results = arriving(lambda number: lane.answer(registry.get(None), item, None))
    assert sizes == groups  # one pass of the network per group
    assert all(result.empty for result in results)  # type: ignore[attr-defined]


def test_the_pool_runs_them_at_once() -> None:
    recorder = Recorder()
    arriving(partial(in_thread, recorder))
    assert recorder.most > 1


def test_answered_together_as_if_alone(registry: Registry) -> None:
    """Two models and a broken image in one group: each drawing gets what it would get alone."""
    three, seven = data_url(3), data_url(7)
    broken = image_bytes(three)[:200]  # the header, then the data stops
    items = [
        (registry.get("default"), PredictRequest(image=three), read_header(image_bytes(three))),
        (registry.get("classic"), PredictRequest(image=seven, explain=True), read_header(image_bytes(seven))),
        (registry.get("default"), PredictRequest(image=three), read_header(broken)),
        (registry.get("default"), PredictRequest(pixels=[0.0] * 784), None),
        (registry.get("classic"), PredictRequest(image=three), read_header(image_bytes(three))),
    ]
    tickets = [Ticket(*item) for item in items]
    answer_together(deque(tickets), [])
    assert all(ticket.done for ticket in tickets)
    assert isinstance(tickets[2].error, InputError) and tickets[2].answer is None
    for ticket, (loaded, item, _) in zip(tickets, items):
        if ticket is not tickets[2]:
            together, alone = ticket.outcome(), answer(loaded, item)
            assert (together.model, together.digit, together.empty, together.input) == (
                alone.model, alone.digit, alone.empty, alone.input
            )
            # The same to float32 rounding: the matrix products sum in another order for several rows.
            assert together.activations == pytest.approx(alone.activations, abs=1e-5)
            assert len(together.hidden or []) == len(alone.hidden or [])
            for mine, its in zip(together.hidden or [], alone.hidden or []):
                assert mine == pytest.approx(its, abs=1e-5)
    assert [tickets[i].outcome().digit for i in (0, 1, 4)] == [3, 7, 3]
    assert tickets[1].outcome().hidden is not None and tickets[0].outcome().hidden is None
    assert tickets[3].outcome().empty


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

    async def in_the_pool(function, loaded, item, image=None):  # type: ignore[no-untyped-def]
        seen.append((False, image is not None))
        return function(loaded, item, image)

    async def in_the_lane(self, loaded, item, image):  # type: ignore[no-untyped-def]
        seen.append((True, image is not None))
        return answer(loaded, item, image)

    monkeypatch.setattr(inference, "in_thread", in_the_pool)
    monkeypatch.setattr(Lane, "answer", in_the_lane)
    answered = anyio.run(answer_in_turn, registry.get(None), PredictRequest(image=image))
    assert seen == [(lane, read_ahead)] and answered.digit == 3
