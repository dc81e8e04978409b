"""POST /api/predict (JSON), /api/predict/file (multipart upload) and /api/predict/batch.

The endpoints are ``async``: FastAPI parses the body and writes the answer on the event loop,
and the CPU-bound part (decoding, preprocessing, the network) runs in a thread, so it never blocks
the loop: single drawings of a canvas's size in the lane (``app.inference.Lane``), the rest through
``app.inference.in_thread``.
(Plain ``def`` endpoints would cost two thread hops per request, one more to validate the answer.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, File, Query, UploadFile

from app.errors import InputError, shorten
from app.inference import answer_batch, answer_file, answer_in_turn, in_thread
from app.routes import RegistryDep
from app.schemas import (
    BATCH_EXAMPLES,
    MAX_BATCH,
    PREDICT_EXAMPLES,
    BatchRequest,
    BatchResponse,
    PredictRequest,
    PredictResponse,
    error_responses,
)

router = APIRouter(prefix="/api/predict", tags=["predict"])
ERRORS = error_responses(404, 413, 422)


@router.post(
    "",
    response_model=PredictResponse,
    response_model_exclude_unset=True,  # `hidden` only appears with explain
    responses=ERRORS,
    summary="Recognise one drawing (JSON)",
)
async def predict_json(
    body: Annotated[PredictRequest, Body(openapi_examples=PREDICT_EXAMPLES)], registry: RegistryDep
) -> PredictResponse:
    """Send the drawing as `image` (a data URL or base64 image) or as 784 `pixels`.

    A drawing without ink answers `"digit": null, "empty": true`.
    """
    return await answer_in_turn(registry.get(body.model), body)


@router.post(
    "/file",
    response_model=PredictResponse,
    response_model_exclude_unset=True,
    responses=ERRORS,
    summary="Recognise one uploaded image file",
)
async def predict_upload(
    file: Annotated[UploadFile, File(description="PNG, JPEG, WebP, BMP or GIF, at most 4096×4096 pixels.")],
    registry: RegistryDep,
    model: Annotated[str | None, Query(description="A name from /api/models; the default when absent.")] = None,
    explain: Annotated[bool, Query(description="Also return the hidden layers' activations.")] = False,
) -> PredictResponse:
    """Multipart upload: `curl -F file=@digit.png http://127.0.0.1:8000/api/predict/file?model=classic`."""
    loaded = registry.get(model)
    data = await file.read()
    if not data:
        name = shorten(file.filename or "")
        raise InputError(f"The uploaded file {name!r} is empty. Upload a PNG, JPEG, WebP, BMP or GIF.")
    return await in_thread(answer_file, loaded, data, explain)


@router.post(
    "/batch",
    response_model=BatchResponse,
    response_model_exclude_unset=True,
    responses=ERRORS,
    summary=f"Recognise up to {MAX_BATCH} drawings at once",
)
async def predict_many(
    body: Annotated[BatchRequest, Body(openapi_examples=BATCH_EXAMPLES)], registry: RegistryDep
) -> BatchResponse:
    """Each item has the /api/predict form; an item without `model` uses the batch's `model`.

    Each model involved runs its network once, on all of its items together. An invalid item
    fails the whole request, and the error names it (e.g. `items[3]: …`).
    """
    return await in_thread(answer_batch, registry, body)
