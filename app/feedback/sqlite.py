"""The embedded feedback store: one SQLite file, ``<DIGITPAD_DATA_DIR>/feedback.sqlite3``.

Each operation opens its own connection (a fraction of a millisecond) and closes it, so nothing is
shared between threads, and several server processes can use the file at once: WAL mode lets readers
run beside the one writer, and a writer that finds the file locked waits up to BUSY_SECONDS for it
(SQLite's busy timeout) instead of failing. Every write is one short ``BEGIN IMMEDIATE`` transaction:
it takes the write lock first, so counting the rows against the cap and inserting are atomic.

The folder, the file and the schema are created on first use. Any SQLite error (a corrupt file, a
folder the service cannot write) becomes StoreUnavailableError with a sentence naming the problem; the
full path and error go to the log.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.feedback.store import (
    COUNT_PER_LABEL,
    COUNT_PER_MODEL,
    SCHEMA_VERSION,
    STATS_INDEX,
    VERSIONS,
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
from model.feedback import FILENAME, SELECT_ROWS, SQLITE_SCHEMA, encode_pixels

log = logging.getLogger("digitpad")

BUSY_SECONDS = 10.0  # how long a write waits for another process's write lock before giving up (503)

# The tables as model.feedback defines them (the format lives there), and the statistics' index.
SCHEMA = (*(statement for statement in SQLITE_SCHEMA.split(";") if statement.strip()), STATS_INDEX)
INSERT = "INSERT INTO feedback (created_at, label, predicted, model, pixels) VALUES (?, ?, ?, ?, ?)"


class SQLiteStore(FeedbackStore):
    """Feedback in ``folder / FILENAME``, at most ``max_rows`` rows."""

    def __init__(self, folder: Path, max_rows: int) -> None:
        self.path = folder / FILENAME
        self.max_rows = max_rows
        self.location = f"SQLite file {self.path}"
        self._schema_ready = False  # this process created or checked the schema (reset on any error)

    def add(self, drawing: Drawing) -> int:
        with self._connection() as db:
            with _transaction(db, "BEGIN IMMEDIATE"):
                check_version(db)
                if over_cap(db, self.max_rows):
                    raise StoreFullError(f"the store holds its maximum of {self.max_rows:,} drawings")
                values = (utc_now().isoformat(), drawing.label, drawing.predicted, drawing.model)
                cursor = db.execute(INSERT, (*values, encode_pixels(drawing.pixels)))
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def stats(self) -> Stats:
        with self._connection() as db, _transaction(db, "BEGIN"):  # one snapshot for all three reads
            check_version(db)
            return stats_from_counts(db.execute(COUNT_PER_LABEL), db.execute(COUNT_PER_MODEL).fetchall())

    def rows(self) -> list[StoredRow]:
        with self._connection() as db, _transaction(db, "BEGIN"):
            check_version(db)
            return db.execute(SELECT_ROWS).fetchall()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A new connection to the file, schema in place; SQLite and file system errors → StoreUnavailableError."""
        db = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions, each one is begun and ended explicitly below.
            db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
            if not self._schema_ready:
                self._create_schema(db)
                self._schema_ready = True
            yield db
        except (sqlite3.Error, OSError) as err:
            self._schema_ready = False  # e.g. the file was replaced: check again next time
            log.warning("feedback store %s: %s: %s", self.path, type(err).__name__, err)
            raise StoreUnavailableError(describe(err)) from None
        finally:
            if db is not None:
                db.close()

    def _create_schema(self, db: sqlite3.Connection) -> None:
        """Make the file a WAL database with the tables, or check the version of the ones it has."""
        mode = switch_to_wal(db)
        if mode != "wal":  # e.g. a file system without shared memory: still correct, but writers block readers
            log.warning("feedback store %s: journal mode %s, not WAL", self.path, mode)
        with _transaction(db, "BEGIN IMMEDIATE"):
            for statement in SCHEMA:
                db.execute(statement)
            if db.execute(VERSIONS).fetchone() is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            check_version(db)


def switch_to_wal(db: sqlite3.Connection) -> str:
    """Make the file a WAL database (stored in the file: every later connection uses it); return the journal mode.

    Switching a new file to WAL needs it to itself, and when two connections try at once (two server processes
    answering their first requests) SQLite refuses one at once with SQLITE_BUSY, "database is locked", instead of
    letting its busy handler wait, which could deadlock. So the switch is tried again until BUSY_SECONDS have
    passed (a try may itself wait in the busy handler); other errors are raised at once.
    """
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            return db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as err:
            if getattr(err, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(random.uniform(0.001, 0.01))  # unequal pauses, so the two do not collide again in step


@contextmanager
def _transaction(db: sqlite3.Connection, begin: str) -> Iterator[None]:
    """``begin`` … COMMIT, or ROLLBACK when the block raises."""
    db.execute(begin)
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.rollback()
        raise
    db.execute("COMMIT")


def describe(err: Exception) -> str:
    """A client-facing sentence for a database error: what is wrong and what fixes it, without the path."""
    text = str(err) if isinstance(err, sqlite3.Error) else (getattr(err, "strerror", None) or str(err))
    problem = f"The feedback database ({FILENAME} in DIGITPAD_DATA_DIR) cannot be used: {text}."
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return f"{problem} The file is damaged or not an SQLite database: restore a backup or move it away."
    if "locked" in lowered or "busy" in lowered:
        return f"{problem} Other writers held it for over {BUSY_SECONDS:.0f} s; try again."
    if isinstance(err, OSError) or "readonly" in lowered or "unable to open" in lowered or "permission" in lowered:
        return f"{problem} Make the data folder writable by the service, or turn feedback off (DIGITPAD_FEEDBACK=off)."
    return problem
