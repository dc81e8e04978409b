"""The drawings people corrected in the page, as training and evaluation data.

    python -m model.feedback stats data/feedback.sqlite3            # how many, per label, how often it was right
    python -m model.feedback export data/feedback.sqlite3 out.npz   # the drawings as plain arrays

The service stores each confirmed or corrected drawing in ``<DIGITPAD_DATA_DIR>/feedback.sqlite3``
(schema version 1, ``SQLITE_SCHEMA`` below): the 28×28 network input as 784 little-endian float32
(ink = 1.0, row by row), the label the person gave, the digit the network had shown and which model
showed it. This module is the reader of that file; it opens it read-only, so it can run while the
service is writing. ``python -m model.train --extra-data`` and ``python -m model.evaluate --feedback``
use it, and the service's store imports ``encode_pixels``/``decode_pixels`` so the format lives here.

``export`` writes ``x`` (n, 784) float32, ``labels`` (n,) int64, ``predicted`` (n,) int64 (-1: the client
did not say), ``ids`` (n,) int64, ``models`` and ``created_at`` (fixed-width unicode strings, "" for none)
with ``np.savez``; everything reads back with ``allow_pickle=False``, and ``load`` accepts such an export
as well as the database. This module reads SQLite files only: ``python -m app.feedback export OUT.npz``
writes the same export from the service's configured store (PostgreSQL too), through ``from_rows`` and
``export`` here.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.evaluate import format_confusion
from model.weights import write_npz

SCHEMA_VERSION = 1
PIXELS = 784
PIXEL_DTYPE = np.dtype("<f4")
BLOB_BYTES = PIXELS * PIXEL_DTYPE.itemsize  # 3,136
FILENAME = "feedback.sqlite3"
SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    label      INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    predicted  INTEGER CHECK (predicted BETWEEN 0 AND 9),
    model      TEXT,
    pixels     BLOB NOT NULL
);
"""
# Every row, oldest first, in the order ``from_rows`` takes (the service's store runs it on either database).
SELECT_ROWS = "SELECT id, created_at, label, predicted, model, pixels FROM feedback ORDER BY id"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_EXPORT_KEYS = ("x", "labels", "predicted", "ids", "models", "created_at")


class FeedbackError(Exception):
    """A feedback file that cannot be used; the message names the file and the problem."""


@dataclass
class FeedbackSet:
    """The collected drawings, oldest first.

    x: (n, 784) float32 in [0, 1]; labels, predicted, ids: (n,) int64 (predicted is -1 where the client
    did not say); models, created_at: n strings each (models[i] is None where the client did not say).
    """

    x: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    models: list[str | None]
    ids: np.ndarray
    created_at: list[str]
    source: Path | str  # the file read, or (python -m app.feedback export) the service's database

    def __len__(self) -> int:
        return len(self.labels)

    def accuracy_by_model(self) -> dict[str, tuple[int, int]]:
        """For each model named in the rows: (drawings it predicted, how many of those it got right)."""
        out: dict[str, tuple[int, int]] = {}
        for model, label, predicted in zip(self.models, self.labels, self.predicted):
            if model is None or predicted < 0:
                continue
            seen, right = out.get(model, (0, 0))
            out[model] = (seen + 1, right + int(predicted == label))
        return dict(sorted(out.items()))

    def confusion(self) -> np.ndarray:
        """(10, 10) counts: rows the label given, columns the digit predicted (rows without a prediction left out)."""
        matrix = np.zeros((10, 10), dtype=np.int64)
        known = self.predicted >= 0
        np.add.at(matrix, (self.labels[known], self.predicted[known]), 1)
        return matrix


def combined(sets: Sequence[FeedbackSet]) -> tuple[np.ndarray, np.ndarray]:
    """The drawings of one or more sets, in order: x (n, 784) and labels (n,)."""
    return np.concatenate([s.x for s in sets]), np.concatenate([s.labels for s in sets])


def encode_pixels(vector: np.ndarray | Sequence[float]) -> bytes:
    """A network input (784,) — or (28, 28) — with values in [0, 1] → the 3,136 bytes stored in ``pixels``."""
    array = np.asarray(vector, dtype=np.float64)
    if array.size != PIXELS:
        raise ValueError(f"a drawing is {PIXELS} pixels (28×28), got shape {array.shape}")
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
        raise ValueError("pixel values must be finite and in [0, 1]")
    return array.reshape(PIXELS).astype(PIXEL_DTYPE).tobytes()


def decode_pixels(blob: bytes) -> np.ndarray:
    """The stored bytes → (784,) float32; ValueError for a blob of the wrong size or values outside [0, 1]."""
    if not isinstance(blob, bytes | bytearray | memoryview) or len(blob) != BLOB_BYTES:
        size = len(blob) if isinstance(blob, bytes | bytearray | memoryview) else type(blob).__name__
        raise ValueError(f"pixels must be {BLOB_BYTES} bytes (784 float32), got {size}")
    vector = np.frombuffer(blob, dtype=PIXEL_DTYPE).astype(np.float32)
    if not np.isfinite(vector).all() or vector.min() < 0 or vector.max() > 1:
        raise ValueError("pixel values must be finite and in [0, 1]")
    return vector


def load(path: str | Path) -> FeedbackSet:
    """Read a feedback database (or an ``export``ed .npz); raise FeedbackError naming the file and the problem."""
    path = Path(path)
    if not path.exists():
        raise FeedbackError(f"{path}: no such file")
    if not path.is_file():
        raise FeedbackError(f"{path}: not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as err:
        raise FeedbackError(f"{path}: cannot read ({err.strerror})") from None
    if head == _SQLITE_MAGIC:
        return _load_sqlite(path)
    if zipfile.is_zipfile(path):
        return _load_export(path)
    raise FeedbackError(f"{path}: not a feedback database (SQLite) or an exported .npz")


def _load_sqlite(path: Path) -> FeedbackSet:
    # Read-only: the service may be writing it; WAL lets this read a consistent snapshot meanwhile.
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise FeedbackError(f"{path}: cannot open the feedback database ({err})") from None
    try:
        version = _schema_version(db, path)
        if version != SCHEMA_VERSION:
            raise FeedbackError(f"{path}: schema version {version}, this code reads version {SCHEMA_VERSION}")
        return from_rows(db.execute(SELECT_ROWS).fetchall(), path)
    except sqlite3.Error as err:  # not a database after all, damaged, locked, …
        raise FeedbackError(f"{path}: cannot read the feedback database ({err})") from None
    finally:
        db.close()


def _schema_version(db: sqlite3.Connection, path: Path) -> int:
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"schema_version", "feedback"} <= tables:
        raise FeedbackError(f"{path}: no schema_version or feedback table; not a digitpad feedback database")
    # Exactly one row, the rule the service's store applies too (app.feedback.store.check_version), so a
    # database the service accepts is one this reads; even two equal rows mean someone else edited the table.
    versions = [v for (v,) in db.execute("SELECT version FROM schema_version")]
    if len(versions) != 1 or not isinstance(versions[0], int):
        raise FeedbackError(f"{path}: schema_version should hold one integer, holds {versions!r}")
    return versions[0]


def from_rows(rows: Sequence[tuple], source: Path | str) -> FeedbackSet:
    """The rows of SELECT_ROWS — (id, created_at ISO 8601 text, label, predicted or None, model or None, pixels
    bytes) — checked and decoded; FeedbackError naming ``source`` and the row id for a bad one."""
    n = len(rows)
    x = np.empty((n, PIXELS), dtype=np.float32)
    labels, predicted, ids = (np.empty(n, dtype=np.int64) for _ in range(3))
    models: list[str | None] = []
    created: list[str] = []
    for i, (row_id, created_at, label, guess, model, pixels) in enumerate(rows):
        try:
            if not isinstance(label, int) or not 0 <= label <= 9:
                raise ValueError(f"label {label!r} is not a digit 0-9")
            if guess is not None and (not isinstance(guess, int) or not 0 <= guess <= 9):
                raise ValueError(f"predicted {guess!r} is not a digit 0-9")
            if model is not None and not isinstance(model, str):
                raise ValueError(f"model {model!r} is not text")
            x[i] = decode_pixels(pixels)
        except ValueError as err:
            raise FeedbackError(f"{source}: row id {row_id}: {err}") from None
        ids[i], labels[i], predicted[i] = row_id, label, -1 if guess is None else guess
        models.append(model)
        created.append(str(created_at))
    return FeedbackSet(x, labels, predicted, models, ids, created, source)


def export(feedback: FeedbackSet, out: str | Path) -> None:
    """Write the set as plain arrays (no object arrays, so no pickle) to ``out``, atomically.

    The one writer of the export format: ``python -m app.feedback export`` calls it too.
    """
    out = Path(out)
    arrays = {
        "x": feedback.x.astype(np.float32),
        "labels": feedback.labels.astype(np.int64),
        "predicted": feedback.predicted.astype(np.int64),
        "ids": feedback.ids.astype(np.int64),
        "models": np.array([m or "" for m in feedback.models], dtype=str),
        "created_at": np.array(feedback.created_at, dtype=str),
    }
    write_npz(out, arrays)


def _load_export(path: Path) -> FeedbackSet:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in _EXPORT_KEYS if key not in npz.files]
            if missing:
                raise FeedbackError(f"{path}: not a feedback export: no {', '.join(missing)}")
            a = {key: npz[key] for key in _EXPORT_KEYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise FeedbackError(f"{path}: not a readable feedback export ({err})") from None
    n = len(a["labels"])
    if a["x"].shape != (n, PIXELS) or any(len(a[k]) != n for k in _EXPORT_KEYS):
        raise FeedbackError(f"{path}: arrays of different lengths or x not (n, {PIXELS})")
    if n and (a["labels"].min() < 0 or a["labels"].max() > 9):
        raise FeedbackError(f"{path}: labels outside 0-9")
    models = [str(m) or None for m in a["models"]]
    return FeedbackSet(
        a["x"].astype(np.float32), a["labels"].astype(np.int64), a["predicted"].astype(np.int64), models,
        a["ids"].astype(np.int64), [str(c) for c in a["created_at"]], path,
    )


# ---- command line ---------------------------------------------------------------------------------------


def format_stats(feedback: FeedbackSet) -> str:
    """What ``stats`` prints: totals, per label, accuracy per model and the confusion of predicted vs label."""
    n = len(feedback)
    lines = [f"{feedback.source}: {n} drawing{'' if n == 1 else 's'}"]
    if n:
        lines.append(f"  from {min(feedback.created_at)} to {max(feedback.created_at)}")
    counts = np.bincount(feedback.labels, minlength=10)
    lines += ["", "per label:", "  " + "  ".join(f"{d}: {c}" for d, c in enumerate(counts))]
    lines += ["", "how often the network was right (the digit it showed against the label given):"]
    accuracy = feedback.accuracy_by_model()
    for model, (seen, right) in accuracy.items():
        lines.append(f"  {model}: {right / seen:.1%} of {seen}")
    unknown = n - sum(seen for seen, _ in accuracy.values())
    if not accuracy:
        lines.append("  no drawing says which model predicted what")
    if unknown and accuracy:
        lines.append(f"  ({unknown} without a prediction or a model)")
    lines += ["", "confusion (rows: label given, columns: digit predicted; every model):"]
    lines += format_confusion(feedback.confusion().tolist())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m model.feedback",
        description="The drawings people confirmed or corrected in the page: how many, and as arrays.",
        epilog="Errors (a missing file, a file that is not a feedback database, an unknown schema version) "
        "print one line and exit with status 2.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    stats = commands.add_parser("stats", help="how many drawings, per label, how often each model was right")
    stats.add_argument("path", type=Path, help="feedback.sqlite3 (or an exported .npz)")
    exp = commands.add_parser("export", help="write the drawings to an .npz (x, labels, predicted, ids, ...)")
    exp.add_argument("path", type=Path, help="feedback.sqlite3")
    exp.add_argument("out", type=Path, help="the .npz file to write")
    args = parser.parse_args(argv)
    try:
        feedback = load(args.path)
        if args.command == "export":
            export(feedback, args.out)
    except FeedbackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the export's folder cannot be created or written
        print(f"error: {args.out}: cannot write ({err.strerror or err})", file=sys.stderr)
        return 2
    print(format_stats(feedback) if args.command == "stats" else f"wrote {len(feedback)} drawings to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
