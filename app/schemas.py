"""Pydantic models of every request and response, with the examples shown in the OpenAPI docs (/docs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_BATCH = 256
PIXELS = 28 * 28

_TINY_PNG = (  # a 28×28 "7"
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABwAAAAcCAAAAABXZoBIAAAAS0lEQVR42sXSQQoAIAgEQDf6/5ftEqVW0l7Ki6COIAiVcx"
    "R536w9w5c1k8ia6tbqwvYSY5Q8ZUJSGshJCynpICM9JGSA9zJCwYe/bVcbDTk2PeiEAAAAAElFTkSuQmCC"
)
_EXAMPLE_ACTIVATIONS = [0.0001, 0.0002, 0.0011, 0.0042, 0.0001, 0.0003, 0.0, 0.9812, 0.0004, 0.0124]
_EXAMPLE_ANSWER = {  # shortened: `input` has 784 values
    "model": "default",
    "digit": 7,
    "activations": _EXAMPLE_ACTIVATIONS,
    "confidence": 0.9812,
    "empty": False,
    "input": [0.0, 0.0, 0.3412, 0.9961, 0.5176],
}
_EXAMPLE_EMPTY = {**_EXAMPLE_ANSWER, "digit": None, "confidence": None, "empty": True, "input": [0.0, 0.0, 0.0]}

Pixel = Annotated[float, Field(ge=0.0, le=1.0)]
# Validation errors cost memory and CPU (on the event loop) per error: without a bound, a 600 KB batch of
# 256 × 784 bad pixels makes 200,000 of them, seconds of CPU and hundreds of MB. Lists stop at their first
# bad element (fail_fast) and a body with more than MAX_UNKNOWN unknown fields is refused as a whole.
MAX_UNKNOWN = 3


def refuse_many_unknown(data: Any, fields: dict[str, Any]) -> Any:
    """A model's "before" check: a dict with more than MAX_UNKNOWN unknown keys → one error, not one per key."""
    if isinstance(data, dict) and len(data) > len(fields) + MAX_UNKNOWN:
        unknown = [key for key in data if key not in fields]
        if len(unknown) > MAX_UNKNOWN:
            shown = ", ".join(repr(str(key)[:32]) for key in unknown[:MAX_UNKNOWN])
            raise ValueError(f"{len(unknown):,} unknown fields ({shown}, …); the fields are {', '.join(fields)}")
    return data


class ErrorResponse(BaseModel):
    """Every error: what is wrong and what is accepted."""

    detail: str = Field(examples=["No model named 'resnet'. Available models: classic, default (see /api/models)."])


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"
    models: list[str] = Field(description="Names of the loaded models.")
    default_model: str = Field(description="The model used when a request names none.")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "models": ["classic", "default"], "default_model": "default"}]}
    )


class HistoryEntry(BaseModel):
    """One training epoch, as recorded in the weights file (further recorded keys are passed through)."""

    model_config = ConfigDict(extra="allow")

    epoch: int
    loss: float | None = None
    seconds: float | None = None
    val_accuracy: float | None = None


class NetworkInfo(BaseModel):
    """One of the networks a model averages."""

    name: str
    kind: str = Field(description="`mlp` (fully connected) or `convnet` (convolutional).")
    layers: list[int] = Field(description="Neurons per layer, input first; a convnet's are its flattened feature maps.")
    activations: list[str]
    parameters: int
    test_accuracy: float | None = Field(description="This network's own accuracy on the MNIST test digits.")
    shift: int = Field(
        default=0,
        description="With 1 or more, this network also reads each drawing moved by this many pixels up, down, left "
        "and right, and its answer is the mean over the five views (0: the drawing as it is).",
    )


class ModelInfo(BaseModel):
    name: str = Field(description="Use it as `model` in predictions.")
    default: bool = Field(description="Whether this model answers requests that name none.")
    kind: str = Field(
        default="mlp",
        description="`mlp` (fully connected), `convnet` (convolutional), or `average`: several networks whose "
        "output probabilities are averaged (listed in `networks`); then `layers`, `activations` and the "
        "`hidden` layers of an explained prediction are the first network's, for the drawing as it is.",
    )
    layers: list[int] = Field(description="Neurons per layer, input first, e.g. [784, 16, 16, 10].")
    activations: list[str] = Field(description="Activation function of each weighted layer.")
    cost: str
    parameters: int = Field(description="Number of weights and biases (of every network, for an average).")
    networks: list[NetworkInfo] | None = Field(default=None, description="An average's networks, the shown one first.")
    test_accuracy: float | None = Field(description="Accuracy on the 10,000 MNIST test digits.")
    per_digit_accuracy: list[float] | None = Field(default=None, description="Test accuracy for each digit 0-9.")
    trained_at: str | None = Field(description="When the weights were saved (ISO 8601).")
    history: list[HistoryEntry] = Field(description="Per-epoch training loss and validation accuracy.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "classic",
                    "default": False,
                    "layers": [784, 16, 16, 10],
                    "activations": ["sigmoid", "sigmoid", "sigmoid"],
                    "cost": "quadratic",
                    "parameters": 13002,
                    "test_accuracy": 0.9512,
                    "per_digit_accuracy": [0.98, 0.99, 0.94, 0.94, 0.95, 0.93, 0.96, 0.95, 0.92, 0.93],
                    "trained_at": "2026-11-27T20:11:19+00:00",
                    "history": [{"epoch": 1, "loss": 0.228, "seconds": 0.43, "val_accuracy": 0.9366}],
                }
            ]
        }
    )


class NeuronWeights(BaseModel):
    """The incoming weights of one neuron: for the first hidden layer, a 28×28 image of what it looks for."""

    model: str
    layer: int = Field(description="1 = first hidden layer; the last layer is the output layer.")
    neuron: int = Field(description="0-based index of the neuron in its layer.")
    shape: list[int] = Field(
        description="[28, 28] for an MLP's first layer (reshape the weights row-major), a convolution's kernel "
        "[5, 5] or [5, 5, channels], else [n]."
    )
    weights: list[float] = Field(
        description="One weight per neuron of the previous layer (per pixel for an MLP's layer 1), or a "
        "convolution's kernel, in the order of `shape`."
    )
    bias: float

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "classic",
                    "layer": 1,
                    "neuron": 3,
                    "shape": [28, 28],
                    "weights": [0.0123, -0.0456, 0.0789],  # shortened: 784 values for layer 1
                    "bias": -0.31,
                }
            ]
        }
    )


# "Exactly one of image and pixels" in JSON Schema terms, so the OpenAPI document (and clients or fuzzers
# generating from it) knows what _one_input enforces: one branch has an image string, the other a pixel
# list; a field that is absent or null matches neither, and both given match both (oneOf fails).
_ONE_INPUT = {
    "oneOf": [
        {"required": ["image"], "properties": {"image": {"type": "string"}}},
        {"required": ["pixels"], "properties": {"pixels": {"type": "array"}}},
    ]
}


class DrawingInput(BaseModel):
    """A drawing, exactly one of `image` and `pixels`: the base of every request that carries one.

    Subclasses add their fields after these two; the checks (few unknown fields, one input) apply to them.
    """

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, json_schema_extra=_ONE_INPUT)

    image: str | None = Field(
        default=None,
        description="PNG, JPEG, WebP, BMP or GIF (≤ 4096×4096) as a data URL, e.g. canvas.toDataURL(), or bare base64.",
    )
    pixels: Annotated[list[Pixel], Field(min_length=PIXELS, max_length=PIXELS, fail_fast=True)] | None = Field(
        default=None,
        description="An already preprocessed 28×28 image: 784 numbers in [0, 1], row-major, 0 = background, 1 = ink.",
    )

    @model_validator(mode="before")
    @classmethod
    def _few_unknown(cls, data: Any) -> Any:
        return refuse_many_unknown(data, cls.model_fields)  # the subclass's fields

    @model_validator(mode="after")
    def _one_input(self) -> Self:
        if (self.image is None) == (self.pixels is None):
            raise ValueError("give exactly one of 'image' and 'pixels'")
        return self


class PredictRequest(DrawingInput):
    """One drawing: exactly one of `image` and `pixels`."""

    model: str | None = Field(default=None, description="A name from /api/models; the default model when absent.")
    explain: bool = Field(default=False, description="Also return every hidden layer's activations (`hidden`).")


class BatchRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    model: str | None = Field(default=None, description="Model for items that name none; the default model if absent.")
    items: list[PredictRequest] = Field(
        max_length=MAX_BATCH, fail_fast=True, description=f"Up to {MAX_BATCH} drawings."
    )

    @model_validator(mode="before")
    @classmethod
    def _few_unknown(cls, data: Any) -> Any:
        return refuse_many_unknown(data, cls.model_fields)


class PredictResponse(BaseModel):
    model: str = Field(description="The model that answered.")
    digit: int | None = Field(description="The recognised digit, or null when the drawing is empty.")
    activations: list[float] = Field(description="The ten output neurons' activations, for digits 0-9.")
    confidence: float | None = Field(description="The recognised digit's activation; null when empty.")
    empty: bool = Field(description="True when no ink was found.")
    input: list[float] = Field(description="The 28×28 image the network saw: 784 values in [0, 1], row-major.")
    hidden: list[list[float]] | None = Field(
        default=None, description="Only with `explain`: the activations of each hidden layer, first to last."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE_ANSWER, _EXAMPLE_EMPTY]})


class BatchResponse(BaseModel):
    results: list[PredictResponse] = Field(description="One answer per item, in order.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"results": [_EXAMPLE_ANSWER, _EXAMPLE_EMPTY]}]})


# ---- request examples for /docs --------------------------------------------------------------

PREDICT_EXAMPLES: dict[str, Any] = {
    "data URL": {
        "summary": "A canvas drawing (canvas.toDataURL())",
        "value": {"image": _TINY_PNG, "model": "default"},
    },
    "pixels": {
        "summary": "An already preprocessed 28×28 image",
        "value": {"pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464, "model": "classic"},
    },
    "explain": {
        "summary": "Also return the hidden layers",
        "value": {"image": _TINY_PNG, "model": "classic", "explain": True},
    },
}

BATCH_EXAMPLES: dict[str, Any] = {
    "two drawings": {
        "summary": "Two drawings, one network pass",
        "value": {"model": "classic", "items": [{"image": _TINY_PNG}, {"pixels": [0.0] * 784}]},
    }
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the listed error codes, all shaped as ErrorResponse."""
    described = {
        404: "Unknown model (or layer or neuron).",
        413: "Request body over the limit, or an image over 4096×4096 pixels.",
        422: "Invalid input: the detail says what is wrong and what is accepted.",
    }
    return {code: {"model": ErrorResponse, "description": described[code]} for code in codes}
