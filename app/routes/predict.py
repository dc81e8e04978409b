"""POST /api/predict (JSON), /api/predict/file (multipart upload) and /api/predict/batch.

The endpoints are plain ``def`` functions, so FastAPI runs them in its thread pool: decoding
images and running the network never block the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, File, Query, UploadFile

from app.errors import InputError, shorten
from app.inference import predict, prepare_batch, prepare_file, prepare_request
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
def predict_json(
    body: Annotated[PredictRequest, Body(openapi_examples=PREDICT_EXAMPLES)], registry: RegistryDep
) -> PredictResponse:
    """Send the drawing as `image` (a data URL or base64 image) or as 784 `pixels`.

    A drawing without ink answers `"digit": null, "empty": true`.
    """
    loaded = registry.get(body.model)
    return predict(loaded, [prepare_request(body)], [body.explain])[0]


@router.post(
    "/file",
    response_model=PredictResponse,
    response_model_exclude_unset=True,
    responses=ERRORS,
    summary="Recognise one uploaded image file",
)
def predict_upload(
    file: Annotated[UploadFile, File(description="PNG, JPEG, WebP, BMP or GIF, at most 4096×4096 pixels.")],
    registry: RegistryDep,
    model: Annotated[str | None, Query(description="A name from /api/models; the default when absent.")] = None,
    explain: Annotated[bool, Query(description="Also return the hidden layers' activations.")] = False,
) -> PredictResponse:
    """Multipart upload: `curl -F file=@digit.png http://127.0.0.1:8000/api/predict/file?model=classic`."""
    loaded = registry.get(model)
    data = file.file.read()
    if not data:
        name = shorten(file.filename or "")
        raise InputError(f"The uploaded file {name!r} is empty. Upload a PNG, JPEG, WebP, BMP or GIF.")
    return predict(loaded, [prepare_file(data)], [explain])[0]


@router.post(
    "/batch",
    response_model=BatchResponse,
    response_model_exclude_unset=True,
    responses=ERRORS,
    summary=f"Recognise up to {MAX_BATCH} drawings at once",
)
def predict_many(
    body: Annotated[BatchRequest, Body(openapi_examples=BATCH_EXAMPLES)], registry: RegistryDep
) -> BatchResponse:
    """Each item has the /api/predict form; an item without `model` uses the batch's `model`.

    Each model involved runs its network once, on all of its items together. An invalid item
    fails the whole request, and the error names it (e.g. `items[3]: …`).
    """
    chosen = [registry.get(item.model or body.model) for item in body.items]  # unknown names → 404 first
    prepared = prepare_batch(body.items)
    results: list[PredictResponse | None] = [None] * len(body.items)
    for name in dict.fromkeys(loaded.name for loaded in chosen):
        indices = [i for i, loaded in enumerate(chosen) if loaded.name == name]
        answers = predict(registry.get(name), [prepared[i] for i in indices], [body.items[i].explain for i in indices])
        for i, answer in zip(indices, answers, strict=True):
            results[i] = answer
    return BatchResponse(results=[answer for answer in results if answer is not None])
