"""Start the service (`python -m app`) on a free loopback port, wait until healthy, measure its memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    startup_s: float  # from spawning the process to the first 200 from /healthz
    log: Path

    def memory_mb(self) -> dict[str, float]:
        """RSS and PSS (shared pages split between processes) summed over the server and its workers."""
        pids = process_tree(self.process.pid)
        rss = [_kb(f"/proc/{pid}/status", "VmRSS:") / 1024 for pid in pids]
        pss = sum(_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in pids) / 1024
        return {"rss_mb": sum(rss), "pss_mb": pss, "processes": len(pids), "rss_each_mb": [round(r) for r in rss]}

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its workers: a cost per request that
        other load on the machine barely changes, unlike requests per second."""
        ticks = 0
        for pid in process_tree(self.process.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return ticks / os.sysconf("SC_CLK_TCK")


def wait_idle(server: Server, timeout: float = 30.0) -> None:
    """Wait until the server has used no CPU for 0.3 s (at most ``timeout``): an overloaded server is still
    working through queued requests after the load generator stops, which would burden the next run."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        before = server.cpu_seconds()
        time.sleep(0.3)
        if server.cpu_seconds() - before < 0.02:
            return


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def serve(
    env: Mapping[str, str] | None = None, timeout: float = 60.0, repo: Path = REPO, module: str = "app"
) -> Iterator[Server]:
    """Run ``python -m <module>`` with the default settings plus ``env``; stop it (SIGTERM, by pid) afterwards.

    ``repo`` is the checkout to run (another one compares versions); ``module`` another entry point that
    serves as ``python -m app`` does (bench.floor's). Its log goes to a temporary file, as it would go to a
    file or a log driver in production.
    """
    port = free_port()
    environ = {**os.environ, "DIGITPAD_HOST": "127.0.0.1", "DIGITPAD_PORT": str(port), **(env or {})}
    environ["PYTHONPATH"] = str(repo)
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="digitpad-bench-", suffix=".log")[1])
    with log.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", module], cwd=repo, env=environ, stdout=sink, stderr=sink)
        try:
            while not healthy(url):
                if process.poll() is not None or time.perf_counter() - started > timeout:
                    raise RuntimeError(f"the service did not become healthy; see {log}")
                time.sleep(0.01)
            yield Server(url, process, time.perf_counter() - started, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    log.unlink(missing_ok=True)


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn's workers are children of the supervisor)."""
    pids, index = [pid], 0
    while index < len(pids):
        for task in Path(f"/proc/{pids[index]}/task").glob("*/children"):
            pids += [int(child) for child in task.read_text().split()]
        index += 1
    return pids


def _kb(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
