"""Corrections from the page, kept for training: ``POST /api/feedback`` stores them, ``model.feedback`` reads them.

- ``store``: what every backend does (add, stats), the shared row format, the errors.
- ``sqlite``: the default, one file under DIGITPAD_DATA_DIR.
- ``postgres``: PostgreSQL at DIGITPAD_DATABASE_URL, for several replicas sharing one database.
- ``schemas``: the requests and responses of the routes (app.routes.feedback).
- ``export``: ``python -m app.feedback export OUT.npz``, the stored drawings for training, from either backend.

``open_store(settings)`` picks the backend. It does no I/O: the database is reached, and created, on
first use, so a missing or broken database never stops the service from starting or predicting.
"""

from __future__ import annotations

from app.feedback.store import FeedbackStore
from app.settings import Settings


def open_store(settings: Settings) -> FeedbackStore:
    """The store the settings name: PostgreSQL when DIGITPAD_DATABASE_URL is set, SQLite otherwise."""
    if settings.database_url:
        from app.feedback.postgres import PostgresStore  # psycopg is imported only when it is used

        return PostgresStore(settings.database_url, settings.feedback_max_rows)
    from app.feedback.sqlite import SQLiteStore

    return SQLiteStore(settings.data_dir, settings.feedback_max_rows)
