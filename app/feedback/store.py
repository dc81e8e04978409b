"""What every feedback store does, whatever the database: add a drawing, count them, read them all.

A stored drawing is the 28×28 vector the network saw (784 float32, little-endian: 3,136 bytes), its
true label, the prediction and model the client reports (each optional) and the time. The format is
shared with ``model/feedback.py``, which reads it for training and encodes the pixels for both (schema
version 1):

- ``schema_version (version INTEGER NOT NULL)``, one row holding the version;
- ``feedback (id, created_at, label, predicted, model, pixels)``, one row per drawing;
- the index ``feedback_stats (model, predicted, label)``, which no reader needs: it lets the row count
  (checked against the cap near it) and the statistics read a few MB instead of every row.

The backends (app.feedback.sqlite, app.feedback.postgres) raise ``StoreUnavailableError`` for any problem of
the database itself (unreachable, corrupt, unwritable, a newer schema) and ``StoreFullError`` at the row cap;
the routes turn them into 503 and 507.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from model.feedback import SCHEMA_VERSION  # the format's version and its pixel encoding live in model.feedback

# The same statements run on SQLite and PostgreSQL.
COUNT_ROWS = "SELECT COUNT(*) FROM feedback"
# At least the number of rows (ids are unique and only grow), read from the primary key in microseconds: the
# rows are counted, which reads the whole index, only when this bound reaches the cap.
MOST_ROWS = "SELECT COALESCE((SELECT MAX(id) FROM feedback) - (SELECT MIN(id) FROM feedback) + 1, 0)"
COUNT_PER_LABEL = "SELECT label, COUNT(*) FROM feedback GROUP BY label"
# Per model, among the rows that say both the model and its prediction: how many, and how many right.
COUNT_PER_MODEL = (
    "SELECT model, COUNT(*), SUM(CASE WHEN predicted = label THEN 1 ELSE 0 END) FROM feedback "
    "WHERE model IS NOT NULL AND predicted IS NOT NULL GROUP BY model"
)
VERSIONS = "SELECT version FROM schema_version"
STATS_INDEX = "CREATE INDEX IF NOT EXISTS feedback_stats ON feedback (model, predicted, label)"


# One stored drawing as ``rows`` returns it: (id, created_at ISO 8601 UTC text, label, predicted or None,
# model or None, pixels bytes), what model.feedback.from_rows takes.
StoredRow = tuple[int, str, int, int | None, str | None, bytes]


class StoreUnavailableError(Exception):
    """The database cannot be used now; the message says why (shown to clients: no secrets, no full paths)."""


class StoreFullError(Exception):
    """The store holds its maximum number of rows (DIGITPAD_FEEDBACK_MAX_ROWS)."""


@dataclass(frozen=True)
class Drawing:
    """One correction to store."""

    pixels: np.ndarray  # (784,) float32 in [0, 1]: the network's input, row-major 28×28, ink = 1
    label: int  # what the drawing really is, 0-9
    predicted: int | None  # what the network answered, as the client reports it
    model: str | None  # the model that answered


@dataclass(frozen=True)
class Stats:
    total: int
    per_label: list[int]  # (10,) rows per true label
    judged: dict[str, int]  # model → rows that name it and its prediction
    right: dict[str, int]  # model → how many of those the model got right

    @property
    def accuracy(self) -> dict[str, float]:
        return {model: self.right[model] / count for model, count in self.judged.items()}


def over_cap(db: Any, max_rows: int) -> bool:
    """Whether the store already holds ``max_rows`` rows (``db``: a connection of either backend)."""
    if db.execute(MOST_ROWS).fetchone()[0] < max_rows:
        return False
    return db.execute(COUNT_ROWS).fetchone()[0] >= max_rows


def check_version(db: Any) -> None:
    """Refuse a database whose schema_version rows are not one row holding this version (``db``: either backend).

    Exactly one row, the rule model.feedback's reader applies too: a database the service accepts is one
    training can read. The service writes that row once (under its write lock); a second one, even equal,
    means someone else changed the table, so neither side guesses which row counts.
    """
    versions = [row[0] for row in db.execute(VERSIONS)]
    if versions == [SCHEMA_VERSION]:
        return
    if len(versions) > 1:
        found = ", ".join(str(v) for v in versions)
        problem = f"The feedback database's schema_version table holds {len(versions)} rows ({found}), not one"
    else:
        problem = f"The feedback database has schema version {versions[0] if versions else 'none'}"
    raise StoreUnavailableError(
        f"{problem}; this service reads and writes version {SCHEMA_VERSION} only, so it leaves the database "
        "alone. Upgrade the service, or point it at another database (DIGITPAD_DATA_DIR or DIGITPAD_DATABASE_URL)."
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def stats_from_counts(per_label: Iterable[tuple[int, int]], per_model: Iterable[tuple[str, int, int]]) -> Stats:
    """The rows of COUNT_PER_LABEL and COUNT_PER_MODEL → Stats."""
    labels = [0] * 10
    for label, count in per_label:
        labels[int(label)] = int(count)
    models = [(str(model), int(count), int(hits or 0)) for model, count, hits in per_model if count]
    judged = {model: count for model, count, _ in models}
    right = {model: hits for model, _, hits in models}
    return Stats(total=sum(labels), per_label=labels, judged=dict(sorted(judged.items())), right=right)


class FeedbackStore(ABC):
    """A place to keep corrections. Every method may raise StoreUnavailableError; ``add`` also StoreFullError.

    Methods are blocking (run them in a worker thread) and safe to call from many threads at once.
    """

    #: Where the data lives, for the log: a path or a URL without its password.
    location: str

    @abstractmethod
    def add(self, drawing: Drawing) -> int:
        """Store one drawing in its own short transaction; return its id."""

    @abstractmethod
    def stats(self) -> Stats:
        """Count the stored drawings."""

    @abstractmethod
    def rows(self) -> list[StoredRow]:
        """Every stored drawing, oldest first, in one snapshot (for ``python -m app.feedback export``).

        All in memory: at the default cap of 100,000 drawings about 320 MB.
        """
