"""The digitpad web service: ``app.main:app``, served by uvicorn (``make run`` or ``python -m app``).

``create_app(settings)`` assembles it: error handlers (app.errors), routes by resource
(app.routes.*), middleware (app.middleware) and the lifespan, which loads every model in the
models folder before the first request. A missing or corrupt weights file stops start-up with a
message naming it; uvicorn then exits with a non-zero status.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import errors
from app.feedback import open_store
from app.headers import SecurityHeadersMiddleware
from app.middleware import BodyLimitMiddleware, RequestLogMiddleware, StartupFailureMessage
from app.registry import StartupError, load_models
from app.routes import feedback, health, models, pages, predict
from app.settings import Settings

log = logging.getLogger("digitpad")

DESCRIPTION = """
Draw a digit; a from-scratch NumPy network recognises it.

- `POST /api/predict` takes a drawing as a data URL / base64 image, or as 784 preprocessed pixels.
- `POST /api/predict/file` takes an uploaded image file, `POST /api/predict/batch` up to 256 drawings.
- `GET /api/models` describes the networks. Every error is `{"detail": "..."}`.
- `POST /api/feedback` keeps a drawing and the digit it really is, for training; `GET /api/feedback/stats` counts them.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the models before serving; on failure log the reason and re-raise (uvicorn exits non-zero)."""
    settings: Settings = app.state.settings
    try:
        registry = load_models(settings.models_dir, settings.default_model)
    except StartupError as err:
        log.error("cannot start: %s", err)
        app.state.startup_error = err  # app.middleware.StartupFailureMessage: this line, no traceback
        raise
    app.state.registry = registry
    for loaded in registry.models.values():
        info = loaded.info
        log.info(
            "model %s: %s, layers %s, %s parameters, test accuracy %s",
            info.name,
            info.kind if not info.networks else " + ".join(n.kind for n in info.networks),
            info.layers,
            f"{info.parameters:,}",
            info.test_accuracy,
        )
    log.info("default model: %s; body limit %s bytes", registry.default, f"{settings.max_body_bytes:,}")
    app.state.feedback = None
    if settings.feedback:
        # No I/O here: the database is reached on first use, so its failures answer 503 and never stop start-up.
        try:
            store = app.state.feedback = open_store(settings)
            log.info("feedback: kept in %s, %s rows at most", store.location, f"{settings.feedback_max_rows:,}")
        except Exception as err:  # e.g. psycopg missing from a hand-made environment
            log.error("feedback: cannot be set up (%s: %s); its endpoints answer 503", type(err).__name__, err)
    # What start-up built (modules, routes, schemas: some 77,000 objects) lives as long as the process. Out of
    # the collector's reach, a full collection takes microseconds instead of 40-90 ms, which it spent about
    # once per 1,000 predictions holding up every request in the process (docs/performance.md).
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()  # another app in this process (tests make many) may need the collector to free this one


def configure_logging(level: str) -> None:
    """Send the ``digitpad`` logger (one line per request, start-up messages) to stderr.

    Our request log replaces uvicorn's access log, which is quietened so lines are not doubled.
    """
    logger = logging.getLogger("digitpad")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; ``settings`` default to the environment (see app.settings)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = FastAPI(title="digitpad", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    errors.install(app)
    for module in (health, models, predict):
        app.include_router(module.router)
    feedback.install(app, enabled=settings.feedback)
    pages.install(app, settings.static_dir)
    # Added innermost first: the body limit sits closest to the routes, the request log outermost.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(StartupFailureMessage)
    return app


app = create_app()
