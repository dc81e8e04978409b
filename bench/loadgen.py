"""Run wrk (Debian's ``wrk`` package) against a loopback URL and return its figures as a dict.

wrk is a C load generator: one of its threads drives thousands of requests per second on one
core, far more than this service answers, so it measures the server rather than itself. Each run
is bounded by a duration, and optionally by a count of responses (``limit``).
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk_report.lua")
INSTALL_HINT = "wrk is not installed: `apt-get install -y wrk` (Debian's package)."


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    connections: int,
    seconds: float,
    body: Path | None = None,
    content_type: str = "application/json",
    limit: int = 0,
    threads: int = 1,
) -> dict[str, float]:
    """Load ``url`` with ``connections`` keep-alive connections for ``seconds`` (or ``limit`` responses).

    Returns wrk's counts plus ``rps`` (responses per second) and ``p50_ms`` / ``p99_ms``;
    ``errors`` sums every socket error and non-2xx/3xx answer; ``client_cpu_s`` is the CPU time
    wrk itself used (to show it is not the bottleneck).
    """
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise ValueError(f"loopback URLs only, not {url}")
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(SCRIPT), url, "--", str(body or ""), content_type, str(limit),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((line for line in out.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no RESULT line:\n{out}")
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["p50_ms"] = result["p50_us"] / 1000
    result["p99_ms"] = result["p99_us"] / 1000
    result["client_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx"))
    return result
