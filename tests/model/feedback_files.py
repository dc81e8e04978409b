"""Feedback databases for tests, written in the service's format (schema version 1) with its pixel encoding."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from model.feedback import SCHEMA_VERSION, SQLITE_SCHEMA, encode_pixels


def write_feedback(
    path: Path,
    x: np.ndarray,
    labels: Sequence[int],
    predicted: Sequence[int | None] | None = None,
    models: Sequence[str | None] | None = None,
    version: int = SCHEMA_VERSION,
) -> Path:
    """Append drawings x (n, 784) in [0, 1] with their labels to the database at ``path`` (created if needed)."""
    n = len(labels)
    predicted = [None] * n if predicted is None else predicted
    models = [None] * n if models is None else models
    start = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    with sqlite3.connect(path) as db:
        db.executescript(SQLITE_SCHEMA)
        if db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        db.executemany(
            "INSERT INTO feedback (created_at, label, predicted, model, pixels) VALUES (?, ?, ?, ?, ?)",
            [
                ((start + timedelta(seconds=i)).isoformat(), int(label), guess, model, encode_pixels(vector))
                for i, (vector, label, guess, model) in enumerate(zip(x, labels, predicted, models))
            ],
        )
    db.close()
    return path
