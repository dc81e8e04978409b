"""The service with a prediction's own work taken out: what its web stack alone costs (bench.floor runs it).

    python -m bench.floor_app        # serves as `python -m app` does, with the same settings

A single drawing's POST /api/predict goes through all of the service's code: uvicorn, the middleware, FastAPI's
parsing and validation of the body, the image's header read on the event loop, the lane and its thread hop, the
answer's validation and serialisation, and the request log. Only the lane thread's work is skipped: instead of
decoding and preprocessing the drawing, ``prepare_one`` gives the sample drawing's ready vector; instead of
running the network and building the answer, ``predict_each_model`` gives each model's answer to the sample,
computed at its first request in each worker. What this server's POST /api/predict costs is the floor below which
no change to those steps can bring a prediction. (Only that request is faithful: a batch is still decoded and
preprocessed, then answered with the sample's answers; a drawing too large for the lane skips the decode, not the
network.)

Unlike ``python -m app``'s, this process also builds the app (uvicorn's workers import ``bench.floor_app:app``),
so its memory is not the service's; a bad setting stops it with a traceback rather than a message.
"""

from __future__ import annotations

import sys

from PIL import Image

from app import __main__ as entry
from app import inference
from app.main import app
from app.preprocess import Prepared
from app.registry import LoadedModel
from app.schemas import DrawingInput, PredictRequest, PredictResponse
from bench.sample import data_url

__all__ = ["app"]  # what uvicorn's workers serve: the service's app, its lane patched below

# A worker process runs this module twice (as the spawned process's main module, then as uvicorn imports it), so
# it reads the real work from functions it does not replace: prepare_request and predict.
_ready = inference.prepare_request(PredictRequest(image=data_url(3)))  # the sample drawing's (784,) vector
_answers: dict[tuple[str, bool], PredictResponse] = {}  # (model name, explain) → the answer to the sample


def prepare_one(item: DrawingInput, image: Image.Image | None = None) -> Prepared:
    """Instead of decoding and preprocessing the drawing: the sample's vector, ready."""
    return _ready


def predict_each_model(
    models: list[LoadedModel], prepared: list[Prepared], explain: list[bool]
) -> list[PredictResponse]:
    """Instead of running the networks: each model's answer to the sample drawing (the same JSON, byte for byte)."""
    for loaded, hidden in zip(models, explain, strict=True):
        if (loaded.name, hidden) not in _answers:
            _answers[loaded.name, hidden] = inference.predict(loaded, [_ready], [hidden])[0]
    return [_answers[loaded.name, hidden] for loaded, hidden in zip(models, explain, strict=True)]


# The lane's thread looks both up in app.inference each time it answers a group (answer_together).
inference.prepare_one = prepare_one
inference.predict_each_model = predict_each_model

if __name__ == "__main__":
    sys.exit(entry.main("bench.floor_app:app"))
