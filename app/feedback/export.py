"""``python -m app.feedback export OUT.npz``: the collected drawings, from the service's own store, as an .npz.

``model.feedback`` (pure NumPy, no database driver) reads SQLite files only; this reads the store the
service is configured with — PostgreSQL at DIGITPAD_DATABASE_URL, else ``feedback.sqlite3`` in
DIGITPAD_DATA_DIR (app.settings) — through the service's store code, and writes the file
``python -m model.feedback export`` writes (model.feedback.export: the format lives there), for
``python -m model.train --extra-data`` and ``python -m model.evaluate --feedback``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from app.feedback import open_store
from app.feedback.store import StoreUnavailableError
from app.settings import Settings, SettingsError
from model.feedback import FILENAME, FeedbackError, export, from_rows


class _Details(logging.Handler):
    """Keeps the store's log lines (host, port, the driver's reason), which its errors leave out for clients.

    Being a handler on the logger also keeps Python from printing them to stderr as a second line.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class ExportError(Exception):
    """The export cannot be made; the message says why, in one line."""


def export_store(settings: Settings, out: Path) -> str:
    """Read every drawing of the settings' store and write them to ``out``; return what was done."""
    if not settings.database_url and not (settings.data_dir / FILENAME).is_file():
        # Opening the store would create an empty database: a wrong folder should be an error, not a new file.
        raise ExportError(f"no feedback database at {settings.data_dir / FILENAME} (DIGITPAD_DATA_DIR)")
    store = open_store(settings)
    details = _Details()
    logger = logging.getLogger("digitpad")
    logger.addHandler(details)
    try:
        feedback = from_rows(store.rows(), store.location)
    except StoreUnavailableError as err:
        detail = f" ({details.messages[-1]})" if details.messages else ""
        raise ExportError(f"{store.location}: {err}{detail}") from None
    except FeedbackError as err:  # a row the format does not allow (written by something else than the service)
        raise ExportError(str(err)) from None
    finally:
        logger.removeHandler(details)
    try:
        export(feedback, out)
    except OSError as err:
        raise ExportError(f"{out}: cannot write ({err.strerror or err})") from None
    return f"wrote {len(feedback)} drawings from {store.location} to {out}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.feedback",
        description="The drawings collected by the service, read from its configured store (SQLite or PostgreSQL).",
        epilog="Settings come from the environment as for the service: DIGITPAD_DATABASE_URL, else DIGITPAD_DATA_DIR. "
        "Errors (bad settings, a database that cannot be read, an output that cannot be written) print one line "
        "and exit with status 2.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    exp = commands.add_parser("export", help="write the drawings to an .npz, as python -m model.feedback export does")
    exp.add_argument("out", type=Path, help="the .npz to write (for model.train --extra-data, evaluate --feedback)")
    args = parser.parse_args(argv)
    try:
        message = export_store(Settings.from_env(), args.out)
    except (SettingsError, ExportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(message)
    return 0
