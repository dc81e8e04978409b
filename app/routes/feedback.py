"""POST /api/feedback and GET /api/feedback/stats: drawings confirmed or corrected by their authors.

The drawing arrives in the /api/predict form and goes through the same decoding and preprocessing,
so the stored 28×28 vector is exactly what the network saw. The store (app.feedback) is blocking
I/O that may wait for seconds (a SQLite file another process holds, PostgreSQL unreachable), so it runs
in threads of its own, at most STORE_THREADS at once: such waits queue on the event loop instead of
taking the worker threads the predictions need. With DIGITPAD_FEEDBACK=off both paths
answer 404 and are left out of the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Depends, FastAPI, Request
from starlette.exceptions import HTTPException

from app.errors import InputError
from app.feedback.schemas import FEEDBACK_EXAMPLES, FeedbackCreated, FeedbackRequest, FeedbackStats
from app.feedback.store import Drawing, FeedbackStore, StoreFullError, StoreUnavailableError
from app.inference import in_thread, prepare_request
from app.preprocess import Prepared
from app.routes import RegistryDep
from app.schemas import ErrorResponse, error_responses

router = APIRouter(prefix="/api/feedback", tags=["feedback"])

STORE_THREADS = 8  # per process; as many as the PostgreSQL store's connections (app.feedback.postgres)

OFF = "Feedback is turned off on this server (DIGITPAD_FEEDBACK=off); predictions work as usual."
NOT_SET_UP = "Feedback storage could not be set up when the server started; the server log says why."
STORE_ERRORS: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "The database cannot be used now (unreachable, damaged, read-only)."},
    507: {"model": ErrorResponse, "description": "The store is full (DIGITPAD_FEEDBACK_MAX_ROWS drawings)."},
}


async def get_store(request: Request) -> FeedbackStore:
    """The store opened at start-up (app.main's lifespan)."""
    store: FeedbackStore | None = request.app.state.feedback
    if store is None:
        raise HTTPException(503, NOT_SET_UP)
    return store


StoreDep = Annotated[FeedbackStore, Depends(get_store)]


@router.post(
    "",
    status_code=201,
    response_model=FeedbackCreated,
    responses={**error_responses(404, 413, 422), **STORE_ERRORS},
    summary="Keep a drawing and the digit it really is",
)
async def add_feedback(
    body: Annotated[FeedbackRequest, Body(openapi_examples=FEEDBACK_EXAMPLES)],
    registry: RegistryDep,
    store: StoreDep,
    request: Request,
) -> FeedbackCreated:
    """Send the drawing as for /api/predict, with `label` (0-9) and, optionally, the `model` that answered
    and what it `predicted`. A drawing without ink is refused (422). Answers 201 with the stored row's id.
    """
    if body.model is not None:
        registry.get(body.model)  # an unknown model is a 404, as on /api/predict
    prepared = await in_thread(prepare_drawing, body)
    drawing = Drawing(prepared.pixels, body.label, body.predicted, body.model)
    with store_errors():
        row_id = await anyio.to_thread.run_sync(store.add, drawing, limiter=store_threads(request))
    return FeedbackCreated(id=row_id)


@router.get(
    "/stats",
    response_model=FeedbackStats,
    responses=STORE_ERRORS,
    summary="How many drawings are kept, and how often each model was right on them",
)
async def feedback_stats(store: StoreDep, request: Request) -> FeedbackStats:
    """`accuracy` counts only the drawings that name both the model and its prediction."""
    with store_errors():
        stats = await anyio.to_thread.run_sync(store.stats, limiter=store_threads(request))
    return FeedbackStats(
        total=stats.total, per_label=stats.per_label, accuracy=stats.accuracy, predictions=stats.judged
    )


def prepare_drawing(body: FeedbackRequest) -> Prepared:
    """Preprocess the drawing as /api/predict does; InputError (422) for a bad image or one without ink."""
    prepared = prepare_request(body)
    if prepared.empty:
        raise InputError("The drawing has no ink, so there is nothing to learn from: draw the digit, then send it.")
    return prepared


def store_threads(request: Request) -> anyio.CapacityLimiter:
    """The app's limit on store calls, made on first use (each app has its own event loop, hence its own limit)."""
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "feedback_threads", None)
    if limiter is None:  # only the event loop's thread gets here, so two limiters are never made
        limiter = request.app.state.feedback_threads = anyio.CapacityLimiter(STORE_THREADS)
    return limiter


@contextmanager
def store_errors() -> Iterator[None]:
    """The store's errors → 503 (cannot be used now) and 507 (full), each with its sentence."""
    try:
        yield
    except StoreUnavailableError as err:
        raise HTTPException(503, str(err)) from None
    except StoreFullError as err:
        raise HTTPException(
            507,
            f"No more drawings can be kept: {err}. Export and delete old ones, or raise DIGITPAD_FEEDBACK_MAX_ROWS.",
        ) from None


def install(app: FastAPI, enabled: bool) -> None:
    """Add the feedback routes, or, when feedback is off, a 404 that says so on both paths."""
    if enabled:
        app.include_router(router)
        return

    async def feedback_off() -> None:
        raise HTTPException(404, OFF)

    for path in ("/api/feedback", "/api/feedback/{rest:path}"):
        app.add_api_route(path, feedback_off, methods=["GET", "POST"], include_in_schema=False)
