"""The service with a prediction's own work taken out: what its web stack alone costs (bench.floor runs it).

    python -m bench.floor_app        # serves as `python -m app` does, with the same settings

Everything a single drawing's request goes through is the service's own code: uvicorn, the middleware,
FastAPI's parsing and validation of the body, reading the image's header on the event loop, the lane and
its thread hop, the answer's serialisation and the request log. Only three steps are skipped, in the lane's
thread: decoding the PNG and preprocessing it (``prepare_one`` gives the sample drawing's ready vector) and
the network with the building of the answer (``predict_each_model`` gives each model's answer to that
drawing, computed once). What this server's POST /api/predict costs is the floor below which no change to
those three steps can bring a prediction.
"""

from __future__ import annotations

import sys

from PIL import Image

from app import __main__ as entry
from app import inference
from app.main import app  # uvicorn's workers import it as bench.floor_app:app: the app, patched below
from app.preprocess import Prepared
from app.registry import LoadedModel
from app.schemas import DrawingInput, PredictRequest, PredictResponse
from bench.sample import data_url

_the_work = inference.predict_each_model  # the real network, to compute each model's answer once
_ready = inference.prepare_one(PredictRequest(image=data_url(3)))  # the sample drawing's (784,) vector
_answers: dict[str, PredictResponse] = {}  # model name → its answer to the sample drawing


def prepare_one(item: DrawingInput, image: Image.Image | None = None) -> Prepared:
    """Instead of decoding and preprocessing the drawing: the sample's vector, ready."""
    return _ready


def predict_each_model(
    models: list[LoadedModel], prepared: list[Prepared], explain: list[bool]
) -> list[PredictResponse]:
    """Instead of running the networks: each model's answer to the sample drawing (the same size of JSON)."""
    for loaded in models:
        if loaded.name not in _answers:
            _answers[loaded.name] = _the_work([loaded], [_ready], [False])[0]
    return [_answers[loaded.name] for loaded in models]


# The lane's thread looks both up in app.inference each time it answers a group (answer_together).
inference.prepare_one = prepare_one
inference.predict_each_model = predict_each_model
__all__ = ["app"]

if __name__ == "__main__":
    sys.exit(entry.main("bench.floor_app:app"))
