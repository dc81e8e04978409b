"""``python -m app``: serve the app with uvicorn on DIGITPAD_HOST:DIGITPAD_PORT (see app.settings)."""

from __future__ import annotations

import sys

import uvicorn

from app.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        print(f"digitpad: {err}", file=sys.stderr)
        return 2
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
