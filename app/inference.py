"""From validated requests to answers: decode and preprocess each drawing, run the network once per batch."""

from __future__ import annotations

import numpy as np

from app.errors import InputError
from app.images import image_bytes, open_image
from app.preprocess import Prepared, from_pixels, preprocess
from app.registry import LoadedModel
from app.schemas import PredictRequest, PredictResponse

DECIMALS = 6  # float32 carries about 7 significant digits; more would only bloat the JSON


def prepare_request(item: PredictRequest) -> Prepared:
    """One /api/predict item → the (784,) vector for the network; raise InputError on bad input."""
    if item.pixels is not None:
        return from_pixels(item.pixels)
    assert item.image is not None  # the schema guarantees exactly one of the two
    return prepare_file(image_bytes(item.image))


def prepare_file(data: bytes) -> Prepared:
    """The bytes of an image file → the (784,) vector for the network; raise InputError on bad input."""
    return preprocess(open_image(data))


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
