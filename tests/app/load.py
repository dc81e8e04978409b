"""A bounded loopback load generator: N requests, C at a time, a fixed mix of valid and invalid ones.

Each of the C workers holds one keep-alive connection (httpx, HTTP/1.1) and sends requests one after
another; together they send exactly N and stop. Every outcome is counted: status codes, and transport
errors (refused, reset or dropped connections, timeouts) by type, so a run can insist on no 5xx and no
dropped connection.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.app.helpers import data_url, draw, encode

PIXELS = [0.0] * 300 + [1.0] * 20 + [0.0] * 464


@dataclass(frozen=True)
class Kind:
    """One kind of request in the mix and the status it must get."""

    name: str
    method: str
    path: str
    status: int
    kwargs: dict[str, Any]


def mix() -> list[Kind]:
    """The request mix: 6 valid kinds, 6 invalid ones (one of them ten times over the 64 KiB body limit)."""
    png = encode(draw())
    small = encode(draw(size=(64, 64), box=(12, 12, 52, 52), width=5))
    return [
        Kind("pixels", "POST", "/api/predict", 200, {"json": {"pixels": PIXELS}}),
        Kind("data-url", "POST", "/api/predict", 200, {"json": {"image": data_url(png), "model": "classic"}}),
        Kind("upload", "POST", "/api/predict/file", 200, {"files": {"file": ("d.png", small)}}),
        Kind("batch-8", "POST", "/api/predict/batch", 200, {"json": {"items": [{"image": data_url(small)}] * 8}}),
        Kind("models", "GET", "/api/models", 200, {}),
        Kind("healthz", "GET", "/healthz", 200, {}),
        Kind("bad-base64", "POST", "/api/predict", 422, {"json": {"image": "not*base64"}}),
        Kind("unknown-model", "POST", "/api/predict", 404, {"json": {"pixels": PIXELS, "model": "resnet"}}),
        Kind("bad-json", "POST", "/api/predict", 422, {"content": b'{"pixels": [', "headers": JSON}),
        Kind("truncated-png", "POST", "/api/predict/file", 422, {"files": {"file": ("d.png", png[:200])}}),
        Kind("no-route", "GET", "/api/nothing", 404, {}),
        Kind("over-limit", "POST", "/api/predict", 413, {"content": OVER_LIMIT, "headers": JSON}),
    ]


JSON = {"content-type": "application/json"}
BODY_LIMIT = 65536  # the server under load runs with this DIGITPAD_MAX_BODY_BYTES
# Ten times the limit: the client is still sending when the server refuses it, and must get the 413 anyway.
OVER_LIMIT = b'{"image": "' + b"A" * 640_000 + b'"}'


@dataclass
class Result:
    """What a run saw."""

    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)  # kind → answers with a status other than expected
    errors: Counter[str] = field(default_factory=Counter)  # transport error type → count

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.requests:,} requests in {self.seconds:.1f} s ({self.rate:,.0f}/s); statuses {dict(self.statuses)}; "
            f"unexpected {dict(self.wrong) or 0}; transport errors {dict(self.errors) or 0}"
        )


async def run(
    url: str, requests: int, concurrency: int, kinds: list[Kind], on_progress: Callable[[int], None] | None = None
) -> Result:
    """Send ``requests`` requests from ``concurrency`` workers, cycling through ``kinds``; count everything."""
    result = Result()
    plan = itertools.islice(itertools.cycle(kinds), requests)
    # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive timeout: with both at 5 s (httpx's
    # default) a request sent on a connection the server is just closing is lost, the client's doing, not the
    # server's (2 in 20,000 requests here, on a busy machine).
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0)
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            for kind in plan:  # shared iterator: the workers together send exactly `requests`
                try:
                    response = await client.request(kind.method, kind.path, **kind.kwargs)
                except httpx.TransportError as err:
                    result.errors[f"{kind.name}: {type(err).__name__}"] += 1
                else:
                    result.statuses[response.status_code] += 1
                    if response.status_code != kind.status:
                        result.wrong[f"{kind.name}→{response.status_code}"] += 1
                result.requests += 1
                if on_progress:
                    on_progress(result.requests)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result
