"""app.supervisor: connections dealt out to the workers in turn, dead workers replaced, no orphans.

The supervisor runs a tiny ASGI app (``pid_app`` below) that answers with the process id of the
worker serving it, so a test can see which worker took which connection.
"""

from __future__ import annotations

import http.client
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.serving import Server, free_port, start

SUPERVISE = """
import sys, uvicorn
from app.supervisor import Supervisor
config = uvicorn.Config("tests.app.test_supervisor:pid_app", host="127.0.0.1", port=int(sys.argv[1]),
                        workers=int(sys.argv[2]), log_level="info")
sys.exit(Supervisor(config, config.bind_socket()).run())
"""


async def pid_app(scope: dict, receive, send) -> None:  # noqa: ANN001
    """Answer every request with this process's id; take part in the lifespan as uvicorn expects."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    server = start([sys.executable, "-c", SUPERVISE, str(port), "2"], env, port, tmp_path / "supervisor.log")
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def served_by(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/")
    response = connection.getresponse()
    assert response.status == 200
    return int(response.read())


def connect(server: Server) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_connections_are_dealt_out_in_turn(supervisor: Server) -> None:
    """8 keep-alive connections: 4 per worker (the kernel's way split them 5/3 or 6/2 as often), each staying put."""
    connections = [connect(supervisor) for _ in range(8)]
    first = [served_by(connection) for connection in connections]
    again = [served_by(connection) for connection in connections]
    assert sorted(Counter(first).values()) == [4, 4], first
    assert again == first  # a connection is served by the worker it was handed to
    assert supervisor.pid not in first
    for connection in connections:
        connection.close()
    assert supervisor.stop(signal.SIGTERM) == 0, supervisor.output()


def test_a_dead_worker_is_replaced(supervisor: Server) -> None:
    workers = {served_by(connect(supervisor)) for _ in range(2)}
    victim = workers.pop()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    # Connections handed to a worker as it dies are lost with it (as those it was serving): wait until the
    # supervisor has noticed, within half a second.
    while f"Child process [{victim}] died" not in supervisor.output() and time.monotonic() < deadline:
        time.sleep(0.01)
    while time.monotonic() < deadline:
        seen = {served_by(connect(supervisor)) for _ in range(4)}  # every connection is answered meanwhile
        if len(seen) == 2:
            break
        time.sleep(0.2)
    assert victim not in seen and len(seen) == 2, supervisor.output()


def test_workers_exit_when_the_supervisor_is_killed(supervisor: Server) -> None:
    """SIGKILL leaves the supervisor no chance to stop them: they notice their inbox closing and exit."""
    workers = {served_by(connect(supervisor)) for _ in range(2)}
    assert len(workers) == 2
    supervisor.process.kill()
    supervisor.process.wait()
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), supervisor.output()
