"""The canvas page: ``static/index.html`` at ``/``, and every file of ``static/`` both at
``/static/<file>`` and at ``/<file>`` (so the page may reference its scripts either way).

Files are only looked up when no API route matches the path, so API paths keep their own
404 and 405 answers.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import InputError


def install(app: FastAPI, static_dir: Path) -> None:
    """Add the page's routes to ``app``; a missing folder leaves only clear 404s."""
    router = APIRouter(include_in_schema=False)

    @router.api_route("/", methods=["GET", "HEAD"])
    def index() -> FileResponse:
        page = static_dir / "index.html"
        if not page.is_file():
            raise InputError(f"The page is missing: {page} does not exist. The API is described at /docs.", 404)
        return FileResponse(page, media_type="text/html")

    @router.api_route("/favicon.ico", methods=["GET", "HEAD"])
    def favicon() -> FileResponse:
        for name, media_type in (("favicon.ico", "image/x-icon"), ("favicon.svg", "image/svg+xml")):
            if (static_dir / name).is_file():
                return FileResponse(static_dir / name, media_type=media_type)
        raise InputError("No favicon: static/favicon.ico or static/favicon.svg does not exist.", 404)

    app.include_router(router)
    if static_dir.is_dir():
        app.mount("/static", StaticFiles(directory=static_dir), name="static")
        app.router.default = RootFiles(StaticFiles(directory=static_dir), app.router.default)


class RootFiles:
    """The router's fallback: GET/HEAD of a path no route matched → that file of ``static/``, if any."""

    def __init__(self, files: ASGIApp, not_found: ASGIApp) -> None:
        self.files = files
        self.not_found = not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            await self.files(scope, receive, send)  # raises HTTPException(404) when there is no such file
        else:
            await self.not_found(scope, receive, send)
