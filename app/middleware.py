"""Pure-ASGI middleware: request body limit, one log line per request, start-up failures (headers: app.headers).

Pure ASGI (no BaseHTTPMiddleware) so nothing buffers a body: the limit counts bytes as
``receive()`` hands them to the app, and stops at the limit (what follows is discarded, see drain).
"""

from __future__ import annotations

import json
import logging
import time

import anyio
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("digitpad")


class BodyTooLarge(HTTPException):
    """Raised from ``receive()`` once a body passes the limit; FastAPI passes HTTPExceptions through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over the limit of {limit:,} bytes. {_HINT}")


_HINT = "Send a smaller image (a 280×280 canvas PNG is a few kilobytes) or raise DIGITPAD_MAX_BODY_BYTES."


class BodyLimitMiddleware:
    """Answer 413 to any request whose body is over ``limit`` bytes; the app never sees more than ``limit``.

    A declared Content-Length over the limit is refused before the app runs. Otherwise (also for
    chunked bodies, which declare none) the bytes are counted in ``receive()``, and the first
    message that crosses the limit raises BodyTooLarge instead of being delivered.

    Before answering, the rest of a refused body is read and thrown away, up to DRAIN_BYTES past the
    limit and for DRAIN_SECONDS at most: a server that closes a connection with unread data in it resets the connection,
    and a client still sending its body then loses the 413 (measured: 9 of 10 one-megabyte uploads
    under load got "connection reset" instead of the answer). Nothing is kept, so memory stays flat;
    a body longer than that, or slower, is answered at once and the connection closed.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            detail = f"The request body is {int(declared):,} bytes; the limit is {self.limit:,} bytes. {_HINT}"
            drained = int(declared) <= self.limit + DRAIN_BYTES and await drain(receive, int(declared))
            await send_json(send, 413, {"detail": detail}, close=not drained)
            return
        received = 0
        finished = False  # the client has sent its whole body
        started = False

        async def counting_receive() -> Message:
            nonlocal received, finished
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                finished = not message.get("more_body", False)
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as err:  # raised where no exception handler caught it
            if started:
                raise
            drained = finished or await drain(receive, DRAIN_BYTES)
            await send_json(send, 413, {"detail": err.detail}, close=not drained)


DRAIN_BYTES = 8 * 1024 * 1024  # past the limit: a phone photo sent by mistake gets its 413, not a reset
DRAIN_SECONDS = 2.0


async def drain(receive: Receive, budget: int) -> bool:
    """Read and discard the rest of a request body, at most ``budget`` bytes within DRAIN_SECONDS.

    True when the body ended (the connection can serve another request), False otherwise.
    """
    discarded = 0
    with anyio.move_on_after(DRAIN_SECONDS):
        while discarded <= budget:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return False
            discarded += len(message.get("body", b""))
            if not message.get("more_body", False):
                return True
    return False


class StartupFailureMessage:
    """When the models cannot load, let the server print our one-line reason, not a traceback after it.

    Starlette reports a failed start-up to the server with the whole traceback as the message, and
    uvicorn prints it after the lifespan's own "cannot start: <file>: <problem>" line. For a
    StartupError (``app.state.startup_error``, set by the lifespan) that is noise around the one line
    that matters; any other start-up failure, a bug, keeps its traceback.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def quiet_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and hasattr(scope["app"].state, "startup_error"):
                message = {**message, "message": ""}  # already logged, in one line
            await send(message)

        await self.app(scope, receive, quiet_send)


class RequestLogMiddleware:
    """Log one line per request: method, path, status and duration in milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            log.info("%s %s %d %.1f ms", scope["method"], scope["path"], status, elapsed)


async def send_json(send: Send, status: int, content: dict[str, str], close: bool = False) -> None:
    """Send a complete JSON response; ``close`` asks the client not to reuse the connection
    (used when the rest of the request body is left unread)."""
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
