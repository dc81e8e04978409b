"""``python -m app``: serve the app with uvicorn on DIGITPAD_HOST:DIGITPAD_PORT (see app.settings).

With DIGITPAD_WORKERS > 1 (the default on a machine with several cores) a supervisor process
starts that many server processes and deals the connections out to them (see app.supervisor).
"""

from __future__ import annotations

import signal
import sys

import uvicorn

from app.settings import Settings, SettingsError
from app.supervisor import Supervisor


def main(app_path: str = "app.main:app") -> int:
    """Serve the app at ``app_path`` (``module:attribute``, as uvicorn takes it; bench.floor serves another)."""
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        print(f"digitpad: {err}", file=sys.stderr)
        return 2
    # uvicorn shuts down gracefully on SIGTERM, then restores the handler it found and raises the signal
    # again, so the exit status would read "killed by SIGTERM" (143). A requested stop is a clean exit:
    # with this handler in place the re-raised signal is ignored and the process exits 0 — also where
    # it is not PID 1 of a container (which ignores it anyway): under systemd, tini, a shell, a test.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    config = uvicorn.Config(
        app_path,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        workers=settings.workers,  # one process per core: the work per request is CPU-bound Python and NumPy
        access_log=False,  # app.middleware.RequestLogMiddleware logs every request
        server_header=False,  # no version banner
    )
    if settings.workers == 1:
        server = uvicorn.Server(config)
        server.run()
        return 0 if server.started else 3  # 3: uvicorn's status for a failed start-up (lifespan error …)
    if not models_load(settings):
        return 1
    return Supervisor(config, config.bind_socket()).run()


def models_load(settings: Settings) -> bool:
    """Load the models once before starting the workers, and say why not if they do not load.

    A missing or corrupt weights file then gives one message, not one per worker, and no
    worker is started in vain.
    """
    from app.registry import StartupError, load_models  # NumPy and pydantic only when needed

    try:
        load_models(settings.models_dir, settings.default_model)
    except StartupError as err:
        print(f"digitpad: cannot start: {err}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
