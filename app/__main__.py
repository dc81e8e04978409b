"""``python -m app``: serve the app with uvicorn on DIGITPAD_HOST:DIGITPAD_PORT (see app.settings)."""

from __future__ import annotations

import signal
import sys

import uvicorn

from app.settings import Settings, SettingsError


def main() -> int:
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
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # app.middleware.RequestLogMiddleware logs every request
        server_header=False,  # no version banner
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
