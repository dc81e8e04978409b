"""The hostile corpus (tests/app/hostile.py) against a real uvicorn process: each request gets its status
quickly, with a short JSON error, a bounded rise in the server's peak memory, and one log line.

Peak memory is the kernel's high-water mark of the server's resident set (VmHWM in /proc/PID/status),
reset before each request: it counts every allocation of the request, C libraries' included, which
tracemalloc would miss (Pillow, NumPy), and costs nothing while the request runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.app import hostile
from tests.app.helpers import data_url, draw, encode
from tests.app.serving import Server, environment, free_port, running, uvicorn

MIB = 1024 * 1024
# Any one hostile request may raise the server's peak resident memory by at most this much. The worst
# legitimate cost of a body under the 2 MiB limit is JSON's own expansion (e.g. 600,000 empty objects:
# ~35 MiB); a decoded image is refused or bounded before this matters (a valid 4096×4096 RGBA image, the
# largest accepted, costs ~150 MiB and is not in this corpus).
BUDGET = 64 * MIB
QUICK = 2.0  # seconds: generous for a shared 2-core machine; typical answers take 1-200 ms
MAX_ERROR_BYTES = 1024  # an error never echoes a megabyte of what was sent

GROUPS: dict[str, Callable[[], list[hostile.Case]]] = {
    "images": hostile.image_cases,
    "json-and-strings": hostile.json_cases,
    "unicode-model-names": hostile.unicode_cases,
}


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("hostile") / "server.log"
    with running(uvicorn(port), environment(models_dir), port, log) as started:
        warm_up(started)
        yield started


def warm_up(server: Server) -> None:
    """Valid requests of every kind first, so first-use allocations (imports, arenas) are not counted below."""
    png = encode(draw())
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for _ in range(3):
            assert http.post("/api/predict", json={"image": data_url(png), "explain": True}).status_code == 200
            assert http.post("/api/predict/file", files={"file": ("d.png", png)}).status_code == 200
            batch = {"items": [{"pixels": hostile.PIXELS}] * 256}
            assert http.post("/api/predict/batch", json=batch).status_code == 200
            assert http.post("/api/predict", json={"image": "x"}).status_code == 422


def send(http: httpx.Client, server: Server, case: hostile.Case) -> tuple[httpx.Response, float, int]:
    """Send one case; return the response, the seconds it took and the rise of the server's peak memory."""
    server.reset_peak()
    before = server.rss()
    start = time.perf_counter()
    response = http.request(case.method, case.path, **case.kwargs)
    elapsed = time.perf_counter() - start
    return response, elapsed, server.peak_rss() - before


def problems(case: hostile.Case, response: httpx.Response, elapsed: float, growth: int) -> list[str]:
    found = []
    if response.status_code != case.status:
        found.append(f"status {response.status_code}, expected {case.status}: {response.text[:200]}")
    if elapsed > QUICK:
        found.append(f"took {elapsed:.2f} s")
    if growth > BUDGET:
        found.append(f"peak memory rose by {growth / MIB:.0f} MiB")
    if response.status_code >= 400:
        body = response.json()
        if set(body) != {"detail"} or not isinstance(body["detail"], str):
            found.append(f"error body is not {{'detail': str}}: {response.text[:200]}")
        if len(response.content) > MAX_ERROR_BYTES:
            found.append(f"error of {len(response.content):,} bytes")
    return found


@pytest.mark.parametrize("group", list(GROUPS))
def test_hostile_requests(server: Server, group: str, capsys: pytest.CaptureFixture) -> None:
    cases = GROUPS[group]()
    log_lines = len(server.output().splitlines())
    report, failures, worst = [], [], (0, "")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for case in cases:
            response, elapsed, growth = send(http, server, case)
            worst = max(worst, (growth, case.name))
            ms, mib = elapsed * 1000, growth / MIB
            report.append(f"  {case.name:28} {response.status_code}  {ms:7.1f} ms  +{mib:5.1f} MiB")
            failures += [f"{case.name}: {problem}" for problem in problems(case, response, elapsed, growth)]
        # Still serving, and correctly.
        assert http.get("/healthz").status_code == 200
        assert http.post("/api/predict", json={"image": data_url(encode(draw()))}).json()["digit"] in range(10)
    with capsys.disabled():  # the measured figures, shown with -s or on failure
        print(f"\n{group}: {len(cases)} requests, largest peak rise +{worst[0] / MIB:.1f} MiB ({worst[1]})")
        print("\n".join(report))
    assert not failures, "\n".join(failures)
    # One log line per request (plus the two checks above): a crafted file must not flood the log.
    new_lines = server.output().splitlines()[log_lines:]
    assert len(new_lines) <= len(cases) + 2, "\n".join(new_lines[:20])


def test_one_error_per_list_not_per_element(server: Server) -> None:
    """256 items × 784 bad pixels used to make 200,000 validation errors: seconds of event-loop CPU and
    ~250 MiB for a 1 MB body. Lists now stop at their first bad element."""
    case = hostile.as_json("batch-of-bad-pixels", {"items": [{"pixels": ["a"] * 784}] * 256}, 422, hostile.BATCH)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        response, elapsed, growth = send(http, server, case)
    assert not problems(case, response, elapsed, growth)
    assert "items[0].pixels[0]: Input should be a valid number." in response.json()["detail"]
    assert growth < 16 * MIB and "items[0].pixels[1]" not in response.text


def test_many_unknown_fields_are_one_error(server: Server) -> None:
    body = {"pixels": hostile.PIXELS, **{f"k{i}": 0 for i in range(100_000)}}
    case = hostile.as_json("100k-unknown-fields", body, 422)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        response, elapsed, growth = send(http, server, case)
    assert not problems(case, response, elapsed, growth)
    assert "100,000 unknown fields ('k0', 'k1', 'k2', …)" in response.json()["detail"]
