"""Pydantic models of the feedback endpoints' requests and responses, with their /docs examples."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import PREDICT_EXAMPLES, DrawingInput

Digit = Annotated[int, Field(ge=0, le=9)]


class FeedbackRequest(DrawingInput):
    """A drawing in the /api/predict form (exactly one of `image` and `pixels`) and the digit it really is."""

    # The drawing's fields and rules are PredictRequest's (DrawingInput), so a stored vector is what /api/predict
    # would see.
    label: Digit = Field(description="The digit the drawing really is, 0-9.")
    predicted: Digit | None = Field(default=None, description="The digit the network answered, if the client knows.")
    model: str | None = Field(default=None, description="The model that answered (a name from /api/models).")


class FeedbackCreated(BaseModel):
    id: int = Field(description="The stored drawing's number.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 42}]})


class FeedbackStats(BaseModel):
    total: int = Field(description="Drawings stored.")
    per_label: list[int] = Field(description="Drawings stored for each true digit 0-9 (10 counts).")
    accuracy: dict[str, float] = Field(
        description=(
            "For each model: the share of its predictions that were right, among the stored drawings that name "
            "the model and its prediction. A model with no such drawing is absent ({} when none has any)."
        )
    )
    predictions: dict[str, int] = Field(
        description="For each model in `accuracy`: how many drawings it is computed on."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "total": 52,
                    "per_label": [5, 6, 4, 7, 9, 3, 5, 4, 5, 4],
                    "accuracy": {"default": 0.9, "classic": 0.75},
                    "predictions": {"default": 40, "classic": 8},
                }
            ]
        }
    )


FEEDBACK_EXAMPLES: dict[str, Any] = {
    "correction": {
        "summary": "The network said 1; it was a 7",
        "value": {**PREDICT_EXAMPLES["data URL"]["value"], "label": 7, "predicted": 1},
    },
    "confirmation": {
        "summary": "The network was right",
        "value": {**PREDICT_EXAMPLES["pixels"]["value"], "label": 1, "predicted": 1},
    },
    "label only": {
        "summary": "A drawing and its digit, no prediction",
        "value": {"pixels": PREDICT_EXAMPLES["pixels"]["value"]["pixels"], "label": 1},
    },
}
