"""Security headers on every response: no MIME sniffing, no referrer, no framing, and a Content-Security-Policy.

The page (``/``, ``/static/…``) and the API get a strict policy: scripts, styles, images and requests from
this origin only, no inline script, no plugins, no framing. The page is built for it: plain ES modules,
one stylesheet, no inline code, so the policy costs it nothing and blocks injected script outright.

FastAPI's documentation pages (``/docs``, ``/redoc``) are generated HTML that load Swagger UI or ReDoc from
a CDN and run a small inline script. They get their own policy: the CDN's scripts, and the inline scripts
of that very response by their SHA-256 hash (never ``'unsafe-inline'`` for scripts), computed here from the
body, so the policy stays right whatever FastAPI's template holds. Those responses are buffered (about a
kilobyte); every other response streams through untouched.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' {CDN} {{hashes}}",
        f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com",  # Swagger UI and ReDoc style inline
        "font-src 'self' https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com",  # Swagger's icons are data: URIs; FastAPI's favicon
        "worker-src 'self' blob:",  # ReDoc searches in a worker
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")  # FastAPI's defaults (app.docs_url, …)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def script_hashes(html: bytes) -> str:
    """CSP sources for the inline scripts of ``html``: "'sha256-…' …" (empty when there are none)."""
    digests = (hashlib.sha256(script).digest() for script in _INLINE_SCRIPT.findall(html))
    return " ".join(f"'sha256-{base64.b64encode(digest).decode()}'" for digest in digests)


class SecurityHeadersMiddleware:
    """Add HEADERS and the Content-Security-Policy (PAGE_POLICY, or DOCS_POLICY on DOCS_PATHS) to responses.

    Headers a route sets itself are kept.
    """

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...] = DOCS_PATHS) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs(scope, receive, send)
            return

        async def adding_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                add(message, PAGE_POLICY)
            await send(message)

        await self.app(scope, receive, adding_send)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer the (small) documentation page, then send it with its scripts' hashes in the policy."""
        start: Message | None = None
        body = bytearray()

        async def buffering_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False) and start is not None:
                    add(start, DOCS_POLICY.format(hashes=script_hashes(bytes(body))))
                    await send(start)
                    await send({"type": "http.response.body", "body": bytes(body)})
            else:
                await send(message)

        await self.app(scope, receive, buffering_send)


def add(start: Message, policy: str) -> None:
    """Add HEADERS and ``policy`` to a response-start message, keeping any the route set."""
    headers = MutableHeaders(scope=start)
    for name, value in {**HEADERS, "Content-Security-Policy": policy}.items():
        headers.setdefault(name, value)
