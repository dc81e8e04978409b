"""From validated requests to answers: decode and preprocess each drawing, run the network once per batch.

The work is CPU-bound (image decoding, NumPy), so the routes run it off the event loop, which stays
free to read requests and answer /healthz: single drawings of a canvas's size in "the lane" (``Lane``:
one thread per process, first come, first served, those waiting together answered together), the
rest in anyio's pool through ``in_thread``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TypeVar

import anyio
import numpy as np
from anyio.lowlevel import RunVar
from PIL import Image

from app.errors import InputError
from app.images import SPNG_MAX_BYTES, decode, image_bytes, open_image, read_header
from app.preprocess import WORK_SIDE, Prepared, from_pixels, preprocess
from app.registry import LoadedModel, Registry
from app.schemas import BatchRequest, BatchResponse, DrawingInput, PredictRequest, PredictResponse

DECIMALS = 6  # float32 carries about 7 significant digits; more would only bloat the JSON
# Images of up to this many pixels take the lane: a 280×280 canvas answers in about 3 ms, a 1024×1024
# one (a large pad on a high-density screen) in 35 ms, holding up the drawings behind it that long, and a
# 4096×4096 one (110 KB as a PNG) in 340 ms, which would stall every drawing in the lane.
LANE_MAX_PIXELS = 1024 * 1024
# An image's base64 and header are read on the event loop to choose its thread only up to this many
# characters, the base64 of the largest file taken for a canvas's PNG (96 KiB: 128 Ki characters); longer
# ones go to the pool and are read there.
LANE_MAX_CHARS = SPNG_MAX_BYTES // 3 * 4
MAX_GROUP = 32  # drawings answered together at most: beyond, the network's cost per drawing hardly falls
T = TypeVar("T")


async def in_thread(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` in a thread of anyio's default pool (as FastAPI uses): batches, uploads, large images."""
    return await anyio.to_thread.run_sync(function, *args)


@dataclass(eq=False)
class Ticket:
    """A drawing waiting in the lane; once answered, its answer or the exception it raised."""

    loaded: LoadedModel
    item: PredictRequest
    image: Image.Image | None  # the item's image from read_header, or None for pixels
    answer: PredictResponse | None = None
    error: Exception | None = None

    @property
    def done(self) -> bool:
        return self.answer is not None or self.error is not None

    def outcome(self) -> PredictResponse:
        if self.error is not None:
            raise self.error
        if self.answer is None:
            raise RuntimeError("the lane left this drawing unanswered")  # a bug in the lane
        return self.answer


class Lane:
    """One thread per event loop for single drawings: first come, first served, those waiting answered together.

    Drawings that share the GIL in many threads all finish late; in the lane each waits only for those
    that came first and those answered with it (one thread rather than many: p99 at concurrency 8 22 ms
    instead of 42 ms, docs/performance.md). When the lane frees up, the first drawing waiting starts a
    thread call (``answer_together``) that takes every drawing waiting, and those arriving while it
    prepares them, into one group, where each model's network runs once: the default's MLP then reads its
    7.4 MB of weights, which the caches do not keep from one drawing to the next, once for all. A drawing
    that arrives while a group is prepared joins it rather than waiting for it to end (docs/performance.md).
    """

    def __init__(self) -> None:
        self.turn = anyio.Lock()  # its waiters go in arrival order
        self.thread = anyio.CapacityLimiter(1)  # the lane's thread call never waits for a token of the pool
        self.waiting: deque[Ticket] = deque()  # appended here, taken by the lane's thread (both atomic)

    async def answer(self, loaded: LoadedModel, item: PredictRequest, image: Image.Image | None) -> PredictResponse:
        ticket = Ticket(loaded, item, image)
        self.waiting.append(ticket)
        try:
            async with self.turn:
                if not ticket.done:  # else it was answered along with an earlier drawing
                    await self._answer()
        finally:
            if not ticket.done:  # cancelled before its turn (a graceful shutdown's time ran out)
                with suppress(ValueError):  # (unless the lane's thread has taken it already)
                    self.waiting.remove(ticket)
        return ticket.outcome()

    async def _answer(self) -> None:
        """Answer a group in the lane's thread, to the end: others wait on it, whatever befalls this task."""
        group: list[Ticket] = []
        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(answer_together, self.waiting, group, limiter=self.thread)
        finally:
            for ticket in group:
                if not ticket.done:  # the thread call itself failed (a bug): every drawing's request says so
                    ticket.error = RuntimeError("the lane could not answer this drawing")


_lane: RunVar[Lane] = RunVar("digitpad_lane")  # one per event loop, as anyio's own pool


def the_lane() -> Lane:
    """This event loop's lane (made on first use: its lock belongs to the loop that waits on it)."""
    try:
        return _lane.get()
    except LookupError:
        lane = Lane()
        _lane.set(lane)
        return lane


def takes_the_lane(image: Image.Image | None) -> bool:
    """Whether a single drawing is quick to answer: 784 pixels (no image), or at most LANE_MAX_PIXELS."""
    return image is None or image.width * image.height <= LANE_MAX_PIXELS


async def answer_in_turn(loaded: LoadedModel, item: PredictRequest) -> PredictResponse:
    """POST /api/predict: the lane when the drawing is quick to answer, else the pool.

    A short image's base64 and header are read here, on the event loop (0.1 ms for a canvas), since
    the header says how large the image is; a long one is not a canvas drawing, and is read in the pool.
    """
    if item.image is not None and len(item.image) > LANE_MAX_CHARS:
        return await in_thread(answer, loaded, item)
    image = None if item.image is None else read_header(image_bytes(item.image))
    if takes_the_lane(image):
        return await the_lane().answer(loaded, item, image)
    return await in_thread(answer, loaded, item, image)


def answer_together(waiting: deque[Ticket], group: list[Ticket]) -> None:
    """Take the drawings waiting into ``group`` — and those that arrive while the group is prepared, up to
    MAX_GROUP —, then run each model's network once on its drawings, and answer every ticket of the group.

    Each ticket gets what its drawing would get alone: its answer, or its error (an InputError is its
    request's 422), raised again in its own request.
    """
    ready: list[tuple[Ticket, Prepared]] = []
    while len(group) < MAX_GROUP:
        try:
            ticket = waiting.popleft()
        except IndexError:  # none left: the group is complete
            break
        group.append(ticket)
        try:
            ready.append((ticket, prepare_one(ticket.item, ticket.image)))
        except Exception as err:
            ticket.error = err
    try:
        answers = predict_each_model(
            [t.loaded for t, _ in ready], [p for _, p in ready], [t.item.explain for t, _ in ready]
        )
        for (ticket, _), one in zip(ready, answers, strict=True):
            ticket.answer = one
    except Exception:  # a bug that one of the drawings triggers: each on its own, to fail only its request
        for ticket, prepared in ready:
            try:
                ticket.answer = predict(ticket.loaded, [prepared], [ticket.item.explain])[0]
            except Exception as err:
                ticket.error = err


def answer(loaded: LoadedModel, item: PredictRequest, image: Image.Image | None = None) -> PredictResponse:
    """One drawing (image or pixels) → its answer; ``image`` is the item's image from read_header, if read already."""
    return predict(loaded, [prepare_one(item, image)], [item.explain])[0]


def prepare_one(item: DrawingInput, image: Image.Image | None = None) -> Prepared:
    """One drawing → the (784,) vector for the network; ``image``: the item's image from read_header, if read."""
    return prepare_request(item) if image is None else preprocess(decode(image, WORK_SIDE))


def answer_file(loaded: LoadedModel, data: bytes, explain: bool) -> PredictResponse:
    """POST /api/predict/file: the bytes of an uploaded image → its answer."""
    return predict(loaded, [prepare_file(data)], [explain])[0]


def answer_batch(registry: Registry, body: BatchRequest) -> BatchResponse:
    """POST /api/predict/batch: each model involved runs its network once, on all of its items."""
    chosen = [registry.get(item.model or body.model) for item in body.items]  # unknown names → 404 first
    prepared = prepare_batch(body.items)
    return BatchResponse(results=predict_each_model(chosen, prepared, [item.explain for item in body.items]))


def predict_each_model(
    models: list[LoadedModel], prepared: list[Prepared], explain: list[bool]
) -> list[PredictResponse]:
    """Drawing i answered by models[i], in order: each model's network runs once, on all of its drawings."""
    results: list[PredictResponse | None] = [None] * len(prepared)
    for name in dict.fromkeys(loaded.name for loaded in models):
        indices = [i for i, loaded in enumerate(models) if loaded.name == name]
        answers = predict(models[indices[0]], [prepared[i] for i in indices], [explain[i] for i in indices])
        for i, one in zip(indices, answers, strict=True):
            results[i] = one
    return [one for one in results if one is not None]


def prepare_request(item: DrawingInput) -> Prepared:
    """One drawing in the /api/predict form → the (784,) vector for the network; raise InputError on bad input."""
    if item.pixels is not None:
        return from_pixels(item.pixels)
    assert item.image is not None  # the schema guarantees exactly one of the two
    return prepare_file(image_bytes(item.image))


def prepare_file(data: bytes) -> Prepared:
    """The bytes of an image file → the (784,) vector for the network; raise InputError on bad input."""
    return preprocess(open_image(data, WORK_SIDE))  # preprocess shrinks larger images to WORK_SIDE anyway


def prepare_batch(items: list[PredictRequest]) -> list[Prepared]:
    """Prepare every item; an error names the failing item, e.g. 'items[3]: …'."""
    prepared = []
    for index, item in enumerate(items):
        try:
            prepared.append(prepare_request(item))
        except InputError as err:
            raise InputError(f"items[{index}]: {err.detail}", err.status_code) from None
    return prepared


def predict(loaded: LoadedModel, prepared: list[Prepared], explain: list[bool]) -> list[PredictResponse]:
    """Run ``loaded``'s network once on all drawings and describe each answer.

    The network gets x of shape (n, 784) and returns every layer's activations
    ``[x, a1, …, aL]``, a_l of shape (n, sizes[l]); aL (n, 10) holds the outputs.
    """
    if not prepared:
        return []
    x = np.stack([p.pixels for p in prepared])  # (n, 784)
    layers = loaded.model.network.forward(x)
    outputs = layers[-1]  # (n, 10)
    digits = outputs.argmax(axis=1)  # (n,)
    answers = []
    for i, item in enumerate(prepared):
        empty = item.empty
        answer = PredictResponse(
            model=loaded.name,
            digit=None if empty else int(digits[i]),
            activations=rounded(outputs[i]),
            confidence=None if empty else round(float(outputs[i, digits[i]]), DECIMALS),
            empty=empty,
            input=rounded(x[i]),
        )
        if explain[i]:
            answer.hidden = [rounded(layer[i]) for layer in layers[1:-1]]
        answers.append(answer)
    return answers


def rounded(values: np.ndarray) -> list[float]:
    """(k,) float array → list of k Python floats, rounded to DECIMALS."""
    return np.round(values.astype(np.float64), DECIMALS).tolist()
