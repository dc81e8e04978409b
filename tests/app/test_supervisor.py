"""app.supervisor: connections dealt out to the workers in turn, dead workers replaced, no orphans.

The supervisor runs a tiny ASGI app (``pid_app`` below) that answers with the process id of the
worker serving it, so a test can see which worker took which connection.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from app import supervisor as supervisor_module
from app.supervisor import Slot, Supervisor
from app.worker import PING
from tests.app.serving import Server, free_port, start

REPO = Path(__file__).parents[2]
SUPERVISE = """
import sys, uvicorn
from app.supervisor import Supervisor
config = uvicorn.Config("tests.app.test_supervisor:" + sys.argv[3], host="127.0.0.1", port=int(sys.argv[1]),
                        workers=int(sys.argv[2]), log_level="info", timeout_worker_healthcheck=int(sys.argv[4]))
sys.exit(Supervisor(config, config.bind_socket()).run())
"""


async def pid_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer every request with this process's id; take part in the lifespan as uvicorn expects."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})


async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An app whose start-up fails (as when the weights do not load)."""
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "cannot start"})


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Server]:
    with supervise(tmp_path, health_check_timeout=5) as server:  # uvicorn's default
        yield server


@contextlib.contextmanager
def supervise(tmp_path: Path, health_check_timeout: int) -> Iterator[Server]:
    """The supervisor with two workers serving ``pid_app``, once both serve; killed afterwards if still running."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", SUPERVISE, str(port), "2", "pid_app", str(health_check_timeout)]
    server = start(command, env, port, tmp_path / "supervisor.log")
    try:
        deadline = time.monotonic() + 30
        while server.output().count("is serving") < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # /healthz answers once one worker serves; the tests want both
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
    victim, survivor = sorted(workers)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    # Connections handed to a worker as it dies are lost with it (as those it was serving): wait until the
    # supervisor has noticed, which its end of the worker's socket pair tells it at once.
    while f"Child process [{victim}] died" not in supervisor.output() and time.monotonic() < deadline:
        time.sleep(0.01)
    # Its replacement is starting (a few tenths of a second at least): the survivor takes every connection.
    assert [served_by(connect(supervisor)) for _ in range(4)] == [survivor] * 4
    while time.monotonic() < deadline:
        seen = {served_by(connect(supervisor)) for _ in range(4)}
        if len(seen) == 2:
            break
        time.sleep(0.1)
    assert victim not in seen and len(seen) == 2, supervisor.output()


def test_a_hung_worker_is_passed_over_then_replaced(tmp_path: Path) -> None:
    """A worker that stops answering (here SIGSTOP) gets no connections once a ping is a second late, and is
    killed and replaced after the health-check timeout; the other worker, answering, is left alone."""
    with supervise(tmp_path, health_check_timeout=3) as supervisor:
        workers = {served_by(connect(supervisor)) for _ in range(2)}
        victim, survivor = sorted(workers)
        victim_gone = False
        try:
            os.kill(victim, signal.SIGSTOP)  # hung: alive, its socket pair open, but answering nothing
            deadline = time.monotonic() + 30
            slow = f"Child process [{victim}] has not answered a ping for"
            while slow not in supervisor.output() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "new connections go to the others" in supervisor.output(), supervisor.output()
            # A connection handed to the stopped worker would time out here after 10 s.
            assert [served_by(connect(supervisor)) for _ in range(6)] == [survivor] * 6
            while alive(victim) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not alive(victim), supervisor.output()
            victim_gone = True
            assert "; killing it." in supervisor.output()
            seen: set[int] = set()
            while len(seen) < 2 and time.monotonic() < deadline:
                seen = {served_by(connect(supervisor)) for _ in range(4)}
                time.sleep(0.1)
            assert survivor in seen and victim not in seen and len(seen) == 2, supervisor.output()
            assert supervisor.output().count("; killing it.") == 1
            assert supervisor.stop(signal.SIGTERM) == 0, supervisor.output()
        finally:
            if not victim_gone:  # a stopped process would outlive a failed test
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGKILL)


def test_a_worker_that_cannot_start_stops_the_supervisor(tmp_path: Path) -> None:
    command = [sys.executable, "-c", SUPERVISE, str(free_port()), "2", "failing_app", "5"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr  # uvicorn's status for a failed start-up
    assert "exited before serving, stopping the parent process" in done.stderr


def test_out_of_descriptors_pauses_accepting() -> None:
    """EMFILE from accept() leaves the listener alone for a second instead of stopping the supervisor."""

    class Listener:
        error = errno.EMFILE

        def accept(self) -> None:
            raise OSError(self.error, os.strerror(self.error))

    listener = Listener()
    supervisor = Supervisor(uvicorn.Config(pid_app), listener)  # type: ignore[arg-type]
    supervisor.slots = [Slot(process=None, inbox=None, ready=True)]  # type: ignore[arg-type]
    supervisor._deal()
    supervisor._watch_listener()
    assert not supervisor.accepting and supervisor.accept_again > time.monotonic()
    listener.error = errno.ECONNABORTED  # a client that gave up: nothing to wait for
    supervisor.accept_again = 0.0
    supervisor._deal()
    assert supervisor.accept_again == 0.0


def test_a_ping_lost_to_a_full_inbox_is_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ping that finds the worker's inbox full is never sent: the next second's goes, and the late one counts."""

    class Inbox:
        def __init__(self) -> None:
            self.full, self.sent = True, []

        def send(self, data: bytes) -> None:
            if self.full:
                raise BlockingIOError
            self.sent.append(data)

    now = [100.0]
    monkeypatch.setattr(supervisor_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    inbox = Inbox()
    supervisor = Supervisor(uvicorn.Config(pid_app), listener=None)  # type: ignore[arg-type]
    slot = Slot(process=SimpleNamespace(pid=1), inbox=inbox, ready=True, answered_at=99.0)  # type: ignore[arg-type]
    supervisor.slots = [slot]
    supervisor._ping()
    assert inbox.sent == [] and slot.pinged_at == 100.0
    inbox.full = False
    now[0] = 100.5
    supervisor._ping()
    assert inbox.sent == []  # not a second yet
    now[0] = 101.0
    supervisor._ping()
    assert inbox.sent == [PING] and slot.pinged_at == 100.0 and not slot.slow
    now[0] = 101.5
    supervisor._ping()
    assert slot.slow and not slot.gone  # unanswered since 100.0: passed over, not killed yet
    supervisor.selector.close()


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
