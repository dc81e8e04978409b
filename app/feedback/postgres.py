"""The shared feedback store: PostgreSQL through psycopg 3, for several replicas behind a load balancer.

Each operation opens its own connection and runs one transaction on it. Connecting on loopback or a
LAN costs a few milliseconds, nothing beside decoding a drawing, and a connection never outlives an
error. At most MAX_CONNECTIONS per process are open at once (further requests wait their turn), so
many server processes stay within the server's ``max_connections``; put PgBouncer in front for more.

The schema is created on first use, by one process at a time: every transaction that creates it or
writes takes the same advisory lock, so two replicas starting together cannot both create the tables,
and counting the rows against the cap and inserting are atomic across replicas.

Connection errors are logged in full (host, port, reason) and answered with a sentence that names
neither; the password never appears in either.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from app.feedback.store import (
    COUNT_PER_LABEL,
    COUNT_PER_MODEL,
    SCHEMA_VERSION,
    STATS_INDEX,
    Drawing,
    FeedbackStore,
    Stats,
    StoredRow,
    StoreFullError,
    StoreUnavailableError,
    check_version,
    over_cap,
    stats_from_counts,
    utc_now,
)
from model.feedback import SELECT_ROWS, encode_pixels

log = logging.getLogger("digitpad")

CONNECT_SECONDS = 3  # an unreachable server answers 503 after this, rather than holding the request
MAX_CONNECTIONS = 8  # open at once per process
WAIT_SECONDS = 15.0  # for a free connection slot, then 503
LOCK_KEY = 0x64696769_7061645F  # "digipad_": the advisory lock of schema creation and writes

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS feedback (
        id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        created_at TIMESTAMPTZ NOT NULL,
        label      INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
        predicted  INTEGER CHECK (predicted BETWEEN 0 AND 9),
        model      TEXT,
        pixels     BYTEA NOT NULL
    )""",
    STATS_INDEX,
)
INSERT = "INSERT INTO feedback (created_at, label, predicted, model, pixels) VALUES (%s, %s, %s, %s, %s) RETURNING id"
UNREACHABLE = (
    "The feedback database (PostgreSQL, DIGITPAD_DATABASE_URL) cannot be reached or refused the connection; "
    "the server log says why."
)


class PostgresStore(FeedbackStore):
    """Feedback in the PostgreSQL database at ``url`` (a postgresql:// URL), at most ``max_rows`` rows."""

    def __init__(self, url: str, max_rows: int) -> None:
        self.url = url
        self.max_rows = max_rows
        self.location = f"PostgreSQL {redact(url)}"
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._schema_ready = False  # this process created or checked the schema (reset on any error)

    def add(self, drawing: Drawing) -> int:
        values = (utc_now(), drawing.label, drawing.predicted, drawing.model, encode_pixels(drawing.pixels))
        with self._transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            self._check_schema(db)
            if over_cap(db, self.max_rows):
                raise StoreFullError(f"the store holds its maximum of {self.max_rows:,} drawings")
            (row_id,) = _one(db.execute(INSERT, values))
            return int(row_id)

    def stats(self) -> Stats:
        with self._reading() as db:
            return stats_from_counts(db.execute(COUNT_PER_LABEL).fetchall(), db.execute(COUNT_PER_MODEL).fetchall())

    def rows(self) -> list[StoredRow]:
        with self._reading() as db:  # one SELECT: one snapshot of the rows
            return [
                # TIMESTAMPTZ comes back in the session's time zone; the format is UTC ISO 8601 text, as on SQLite.
                (row_id, created.astimezone(UTC).isoformat(), label, predicted, model, bytes(pixels))
                for row_id, created, label, predicted, model, pixels in db.execute(SELECT_ROWS)
            ]

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction to read in, the schema in place and its version checked."""
        with self._transaction() as db:
            if not self._schema_ready:
                db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            self._check_schema(db)
            yield db

    def _check_schema(self, db: psycopg.Connection[Any]) -> None:
        """Create the schema if this process has not yet seen it (the caller holds the lock), check its version."""
        if not self._schema_ready:
            for statement in SCHEMA:
                db.execute(statement)
            if _one(db.execute("SELECT COUNT(*) FROM schema_version"))[0] == 0:
                db.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
        check_version(db)
        self._schema_ready = True

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A new connection in a transaction, committed when the block ends normally and closed either way."""
        if not self._slots.acquire(timeout=WAIT_SECONDS):
            busy = f"The feedback database is busy: no connection came free in {WAIT_SECONDS:.0f} s."
            raise StoreUnavailableError(busy)
        try:
            with psycopg.connect(self.url, connect_timeout=CONNECT_SECONDS, application_name="digitpad") as db:
                yield db  # psycopg commits on leaving the block, or rolls back on an exception, then closes
        except psycopg.Error as err:
            self._schema_ready = False  # e.g. the tables were dropped: create or check them again next time
            log.warning("feedback store %s: %s: %s", self.location, type(err).__name__, " ".join(str(err).split()))
            raise StoreUnavailableError(describe(err)) from None
        finally:
            self._slots.release()


def _one(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    row = cursor.fetchone()
    assert row is not None  # every statement passed here returns exactly one row
    return row


def describe(err: psycopg.Error) -> str:
    """A client-facing sentence for a database error, naming no host, user or path."""
    if isinstance(err, psycopg.OperationalError):  # connecting failed, or the connection broke
        return UNREACHABLE
    reason = err.diag.message_primary or type(err).__name__
    return f"The feedback database (PostgreSQL) refused the operation: {reason}."


def redact(url: str) -> str:
    """A postgresql:// URL without its password or query, for the log."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    if len(netloc) == 2:
        user = netloc[0].split(":", 1)[0]
        netloc = [f"{user}@{netloc[1]}"]
    return urlunsplit((parts.scheme, netloc[0], parts.path, "", ""))
