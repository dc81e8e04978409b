"""Collected drawings as extra training data: ``python -m model.train --extra-data PATH --extra-weight W``.

The drawings people confirmed or corrected in the page (``model.feedback``) join the MNIST training
images, each repeated ``W`` times. Oversampling rather than a weighted loss keeps the training loop's
minibatches unchanged, and with augmentation on every copy is distorted differently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from model.evaluate import Classifier, evaluate
from model.feedback import FeedbackSet, combined, load


def load_extra(paths: Iterable[str | Path]) -> list[FeedbackSet]:
    """The drawings in these files (FeedbackError for a bad one); each file once, those without drawings left out."""
    sources = dict.fromkeys(Path(path).resolve() for path in paths)
    return [s for s in (load(path) for path in sources) if len(s)]


def with_extra(
    x: np.ndarray, labels: np.ndarray, extra: list[FeedbackSet], weight: int
) -> tuple[np.ndarray, np.ndarray]:
    """The training set with every collected drawing appended ``weight`` times.

    x: (n, 784), labels: (n,) → (n + weight·m, 784) float32 and (n + weight·m,) labels, m drawings in
    ``extra``.
    """
    if weight < 1:
        raise ValueError(f"the extra weight must be a whole number ≥ 1, got {weight}")
    if not extra:
        return x, labels
    x_extra, labels_extra = combined(extra)
    x_extra, labels_extra = x_extra.astype(np.float32), labels_extra.astype(labels.dtype)
    return (
        np.concatenate([x.astype(np.float32), np.tile(x_extra, (weight, 1))]),
        np.concatenate([labels, np.tile(labels_extra, weight)]),
    )


def extra_metadata(network: Classifier, extra: list[FeedbackSet], weight: int) -> dict[str, Any]:
    """What the weights file records about the collected drawings a model was trained with."""
    x, labels = combined(extra)
    return {
        "drawings": int(len(labels)),
        "weight": weight,
        # The database keeps growing: its last id and a digest of the drawings used say which ones these were.
        "sources": [
            {"path": str(s.source), "drawings": len(s), "last_id": int(s.ids.max()), "sha256": _digest(s)}
            for s in extra
        ],
        "per_label": np.bincount(labels, minlength=10).tolist(),
        "accuracy": round(evaluate(network, x, labels).accuracy, 5),  # on the drawings it trained with
    }


def _digest(drawings: FeedbackSet) -> str:
    """SHA-256 over the drawings' pixels and labels, as MNIST's data_sha256 is over its images and labels."""
    digest = hashlib.sha256(drawings.x.astype("<f4").tobytes())
    digest.update(drawings.labels.astype("<i8").tobytes())
    return digest.hexdigest()
