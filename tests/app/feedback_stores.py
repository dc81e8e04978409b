"""Feedback stores for the tests: a fresh SQLite folder, or a fresh schema on the test PostgreSQL server.

PostgreSQL runs where ``DIGITPAD_TEST_DATABASE_URL`` names a server (``.ci/run`` starts one with
``.ci/postgres.sh``); elsewhere its tests skip, saying so, unless ``DIGITPAD_REQUIRE_POSTGRES=1`` (set by
CI), which makes them fail instead. Each test gets its own schema, named in the URL's ``search_path``,
and dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest

from app.settings import Settings
from model.feedback import FILENAME, decode_pixels

BACKENDS = ["sqlite", "postgresql"]
URL_VARIABLE = "DIGITPAD_TEST_DATABASE_URL"


def postgres_url() -> str:
    """The test server's URL; skip the test (or fail it, under DIGITPAD_REQUIRE_POSTGRES=1) when there is none."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if not url:
        reason = f"no PostgreSQL server for the tests: set {URL_VARIABLE} (.ci/postgres.sh start makes one)"
        if os.environ.get("DIGITPAD_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + "; DIGITPAD_REQUIRE_POSTGRES=1 requires it")
        pytest.skip(reason)
    return url


def in_schema(url: str, schema: str) -> str:
    """``url`` with ``schema`` first on the search path (libpq's ``options`` parameter)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-c search_path={schema}')}"


@contextmanager
def empty_store(backend: str, settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """``settings`` pointing at a new, empty store of ``backend``; a PostgreSQL schema is dropped afterwards."""
    if backend == "sqlite":
        yield replace(settings, data_dir=tmp_path / "feedback-data", database_url=None)
        return
    import psycopg

    url = postgres_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    try:
        yield replace(settings, database_url=in_schema(url, schema))
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


def backend_of(settings: Settings) -> str:
    return "postgresql" if settings.database_url else "sqlite"


def sql(settings: Settings, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the settings' store, straight through the database driver; return its rows."""
    if settings.database_url:
        import psycopg

        with psycopg.connect(settings.database_url) as db:
            cursor = db.execute(statement.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []
    with sqlite3.connect(settings.data_dir / FILENAME) as db:
        rows = db.execute(statement, params).fetchall()
    db.close()
    return rows


def stored(settings: Settings) -> list[dict[str, Any]]:
    """Every stored row, oldest first, with ``pixels`` decoded to (784,) float32 (none before the first write)."""
    if settings.database_url:
        if sql(settings, "SELECT to_regclass('feedback')") == [(None,)]:
            return []
    elif not (settings.data_dir / FILENAME).exists():
        return []
    rows = sql(settings, "SELECT id, label, predicted, model, pixels, created_at FROM feedback ORDER BY id")
    return [
        {
            "id": row_id,
            "label": label,
            "predicted": predicted,
            "model": model,
            "pixels": decode_pixels(bytes(pixels)),
            "created_at": created_at,
        }
        for row_id, label, predicted, model, pixels, created_at in rows
    ]


def drawing_pixels(seed: int = 0) -> list[float]:
    """784 values in [0, 1] with some ink: a bar, and a little noise that makes each seed's vector unique."""
    rng = np.random.default_rng(seed)
    frame = np.zeros((28, 28))
    frame[6:22, 12:16] = 1.0
    frame += rng.uniform(0, 0.02, frame.shape)
    return np.clip(frame, 0, 1).reshape(-1).round(4).tolist()
