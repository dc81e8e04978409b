"""Every setting of the service, read from environment variables in one place.

| variable                   | default               | meaning                                              |
|----------------------------|-----------------------|------------------------------------------------------|
| ``DIGITPAD_MODELS_DIR``    | ``<repo>/model/weights`` | folder whose ``*.npz`` files are loaded at start-up |
| ``DIGITPAD_DEFAULT_MODEL`` | ``default``           | model used when a request names none                 |
| ``DIGITPAD_MAX_BODY_BYTES``| ``2097152`` (2 MiB)   | request bodies above this are refused with 413       |
| ``DIGITPAD_HOST``          | ``127.0.0.1``         | address ``python -m app`` listens on                 |
| ``DIGITPAD_PORT``          | ``8000``              | port ``python -m app`` listens on                    |
| ``DIGITPAD_LOG_LEVEL``     | ``info``              | debug, info, warning, error or critical              |
| ``DIGITPAD_CORS_ORIGINS``  | empty (CORS off)      | comma-separated origins allowed to call the API, or ``*`` |
| ``DIGITPAD_WORKERS``       | usable CPU cores      | server processes ``python -m app`` starts (1 to 64)  |
| ``DIGITPAD_FEEDBACK``      | ``on``                | ``off``: the feedback endpoints answer 404           |
| ``DIGITPAD_DATA_DIR``      | ``data`` (working dir)| folder of the feedback database ``feedback.sqlite3`` |
| ``DIGITPAD_DATABASE_URL``  | empty (SQLite)        | ``postgresql://user:pw@host/db``: feedback there instead |
| ``DIGITPAD_FEEDBACK_MAX_ROWS`` | ``100000``        | drawings kept at most; past that POST /api/feedback answers 507 |

A bad value stops the process with a message naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from model.blas import usable_cores

REPO_ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class SettingsError(ValueError):
    """An environment variable with a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """The service's configuration; ``Settings.from_env()`` reads it from the environment."""

    models_dir: Path = REPO_ROOT / "model" / "weights"
    default_model: str = "default"
    max_body_bytes: int = 2 * 1024 * 1024
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    cors_origins: tuple[str, ...] = ()
    workers: int = field(default_factory=usable_cores)  # the work is CPU-bound: one process per core
    static_dir: Path = field(default=REPO_ROOT / "static")
    feedback: bool = True
    data_dir: Path = Path("data")  # relative to the working directory, like a command-line path
    database_url: str | None = None
    feedback_max_rows: int = 100_000  # 3 kB each: about 320 MB of drawings

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from ``environ`` (``os.environ`` by default); unset variables keep their defaults."""
        env = os.environ if environ is None else environ
        defaults = cls()

        def get(name: str) -> str | None:
            value = env.get(f"DIGITPAD_{name}")
            return value.strip() if value is not None and value.strip() else None

        log_level = (get("LOG_LEVEL") or defaults.log_level).lower()
        if log_level not in LOG_LEVELS:
            raise SettingsError(f"DIGITPAD_LOG_LEVEL={log_level!r}: choose one of {', '.join(LOG_LEVELS)}")
        origins = tuple(o.strip() for o in (get("CORS_ORIGINS") or "").split(",") if o.strip())
        database_url = get("DATABASE_URL")
        if database_url is not None and not database_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError(
                "DIGITPAD_DATABASE_URL must be a postgresql://user:password@host:port/database URL "
                f"(it starts with {database_url.split(':', 1)[0][:20]!r}); leave it unset for SQLite"
            )
        return cls(
            models_dir=Path(get("MODELS_DIR") or defaults.models_dir).expanduser(),
            default_model=get("DEFAULT_MODEL") or defaults.default_model,
            max_body_bytes=_integer(get("MAX_BODY_BYTES"), "DIGITPAD_MAX_BODY_BYTES", defaults.max_body_bytes, 1),
            host=get("HOST") or defaults.host,
            port=_integer(get("PORT"), "DIGITPAD_PORT", defaults.port, 0, 65535),
            log_level=log_level,
            cors_origins=origins,
            workers=_integer(get("WORKERS"), "DIGITPAD_WORKERS", defaults.workers, 1, 64),
            feedback=_switch(get("FEEDBACK"), "DIGITPAD_FEEDBACK", defaults.feedback),
            data_dir=Path(get("DATA_DIR") or defaults.data_dir).expanduser(),
            database_url=database_url,
            feedback_max_rows=_integer(
                get("FEEDBACK_MAX_ROWS"), "DIGITPAD_FEEDBACK_MAX_ROWS", defaults.feedback_max_rows, 1
            ),
        )


def _switch(value: str | None, name: str, default: bool) -> bool:
    """Parse an on/off setting (also true/false, yes/no, 1/0)."""
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("on", "true", "yes", "1"):
        return True
    if lowered in ("off", "false", "no", "0"):
        return False
    raise SettingsError(f"{name}={value!r}: use on or off")


def _integer(value: str | None, name: str, default: int, low: int, high: int | None = None) -> int:
    """Parse an integer setting and check it lies in [low, high]."""
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not a whole number") from None
    if number < low or (high is not None and number > high):
        upper = f" and at most {high}" if high is not None else ""
        raise SettingsError(f"{name}={number} must be at least {low}{upper}")
    return number
