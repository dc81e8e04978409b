"""SIGTERM during load (what `docker stop` sends): requests in flight finish, new connections are refused
at once, and the process exits 0 after the last answer.

Slow requests (batches of 256 canvas drawings, about a second or more each) are certainly in flight when
the signal arrives; a stream of fast requests runs around them. Every request either gets its expected
answer or, once the server has stopped accepting, fails to connect: never a 5xx, never a hang.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.app.helpers import data_url, draw, encode
from tests.app.load import PIXELS
from tests.app.serving import Server, environment, free_port, start

SLOW = 4  # concurrent slow batches
# Errors a request may meet only once the server is shutting down: the listener is closed (refused), or a
# connection the kernel had accepted into the listener's backlog is reset when the listener closes.
REFUSALS = {"ConnectError", "ReadError", "RemoteProtocolError", "WriteError"}


def refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_during_load(models_dir: Path, tmp_path: Path, workers: str) -> None:
    """``python -m app``, as the container runs it, with one server process or a supervisor and two workers."""
    port = free_port()
    env = environment(models_dir, DIGITPAD_HOST="127.0.0.1", DIGITPAD_PORT=str(port), DIGITPAD_WORKERS=workers)
    server = start([sys.executable, "-m", "app"], env, port, tmp_path / "server.log")
    try:
        outcome = asyncio.run(load_and_terminate(server, port))
        exit_code = server.process.wait(timeout=60)
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
    slow, fast, refused_after, signalled, finished = outcome
    log = server.output()
    problems = []
    # Every slow batch was in flight at SIGTERM and still got its whole answer.
    if [(status, results) for status, results in slow] != [(200, 256)] * SLOW:
        problems.append(f"slow batches answered {slow}")
    if not all(done > signalled for done in finished):
        problems.append("the slow batches were not in flight at SIGTERM")
    # New connections were refused while those were still being answered.
    if refused_after is None or refused_after >= min(finished, default=0):
        problems.append("new connections were still accepted while requests were in flight")
    # The fast stream: expected answers, and connection refusals only after the signal; no 5xx, no timeout.
    if fast["ok"] == 0 or not set(fast) <= {"ok"} | REFUSALS:
        problems.append(f"fast requests: {dict(fast)}")
    if exit_code != 0:
        problems.append(f"exit code {exit_code}")
    if "Application shutdown complete" not in log or "Traceback" in log:
        problems.append("no clean application shutdown in the log")
    assert not problems, "; ".join(problems) + "\n" + log[-1500:]


async def load_and_terminate(server: Server, port: int) -> tuple:
    drawing = data_url(encode(draw()))
    batch = {"items": [{"image": drawing}] * 256}
    signalled = float("inf")
    stop = asyncio.Event()
    fast: Counter[str] = Counter()
    finished: list[float] = []

    async def slow_request(client: httpx.AsyncClient) -> tuple[int, int]:
        response = await client.post("/api/predict/batch", json=batch)
        finished.append(time.monotonic())
        return response.status_code, len(response.json().get("results", []))

    async def fast_stream() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                try:
                    response = await client.post("/api/predict", json={"pixels": PIXELS})
                except httpx.TransportError as err:
                    failed = time.monotonic()
                    fast[type(err).__name__ + ("" if failed > signalled else " before SIGTERM")] += 1
                    await asyncio.sleep(0.05)
                    continue
                fast["ok" if response.status_code == 200 else f"status {response.status_code}"] += 1

    slow_clients = [httpx.AsyncClient(base_url=server.url, timeout=120) for _ in range(SLOW)]
    start = time.monotonic()  # one batch alone, to time it (and warm the server up)
    assert (await slow_request(slow_clients[0]))[0] == 200
    alone = time.monotonic() - start
    finished.clear()
    streams = [asyncio.create_task(fast_stream()) for _ in range(8)]
    await asyncio.sleep(0.5)  # the fast stream is flowing
    slow_tasks = [asyncio.create_task(slow_request(client)) for client in slow_clients]
    # The batches are uploaded (a few milliseconds) and being worked on: SLOW of them share at most a few
    # cores with the fast stream, so none can be done a third of one batch's time alone after they were sent.
    await asyncio.sleep(max(0.2, alone / 3))
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    refused_after = await asyncio.to_thread(wait_until_refused, port, signalled)
    slow = await asyncio.gather(*slow_tasks)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*streams)
    for client in slow_clients:
        await client.aclose()
    return slow, fast, refused_after, signalled, finished


def wait_until_refused(port: int, since: float, timeout: float = 10) -> float | None:
    """The time at which a new connection to ``port`` is first refused, polling every 10 ms."""
    while time.monotonic() - since < timeout:
        if refused(port):
            return time.monotonic()
        time.sleep(0.01)
    return None
