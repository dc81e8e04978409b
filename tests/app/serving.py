"""The real server for tests: uvicorn in its own process on a free loopback port, with its memory read from /proc.

The server's output goes to a file, not a pipe: a pipe nobody reads fills up after 64 KB of request log
lines and then blocks the server mid-request, which a load test would report as a hang.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.settings import REPO_ROOT

UVICORN = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--no-server-header"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(models_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DIGITPAD_MODELS_DIR": str(models_dir),
        "PYTHONPATH": str(REPO_ROOT),
        "OPENBLAS_NUM_THREADS": "1",  # a shared 2-core machine: one BLAS thread per server
        **extra,
    }


class Server:
    """A started server process: its URL, its output so far, and its resident memory."""

    def __init__(self, process: subprocess.Popen, url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def _status(self, key: str) -> int:
        """A line of /proc/PID/status in bytes, e.g. VmRSS (resident now) or VmHWM (resident at its peak)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(key)

    def rss(self) -> int:
        return self._status("VmRSS")

    def peak_rss(self) -> int:
        return self._status("VmHWM")

    def reset_peak(self) -> None:
        """Make the peak (VmHWM) the current resident size again (Linux ≥ 4.0: write 5 to clear_refs)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 30) -> int:
        """Send ``sig`` and wait for the exit code."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def start(command: list[str], env: dict[str, str], port: int, log: Path, timeout: float = 60) -> Server:
    """Start ``command`` (its output into ``log``) and wait until /healthz answers on ``port``."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the server did not answer /healthz within {timeout:.0f} s:\n{server.output()}")
        time.sleep(0.1)


@contextmanager
def running(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[Server]:
    """A started server, stopped with SIGINT afterwards (and required to exit 0); killed if anything failed."""
    server = start(command, env, port, log)
    try:
        yield server
        assert server.stop() == 0, server.output()
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def uvicorn(port: int) -> list[str]:
    """``make run``'s command line, on ``port``."""
    return [*UVICORN, "--port", str(port)]
