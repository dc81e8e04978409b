"""The real thing: uvicorn in its own process on a free loopback port, called over HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import REPO_ROOT
from tests.app.helpers import data_url, draw, encode
from tests.app.serving import environment, free_port, running, uvicorn


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``uvicorn app.main:app``, as ``make run`` starts it."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with running(uvicorn(port), environment(models_dir), port, log) as started:
        yield started.url


def test_over_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        assert [m["name"] for m in http.get("/api/models").json()] == ["classic", "default"]
        answer = http.post("/api/predict", json={"image": data_url(encode(draw())), "model": "classic"})
        assert answer.status_code == 200 and answer.json()["digit"] in range(10)
        upload = http.post("/api/predict/file", files={"file": ("7.png", encode(draw()))})
        assert upload.status_code == 200 and upload.json()["model"] == "default"
        assert http.post("/api/predict", json={"image": "nope"}).status_code == 422


def test_chunked_body_over_limit_over_http(server: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 4 MiB, twice the limit, with no Content-Length
            yield b"A" * 65536

    with httpx.Client(base_url=server, timeout=10) as http:
        response = http.post("/api/predict", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413 and "limit" in response.json()["detail"]
        assert http.get("/healthz").status_code == 200  # and the server is fine


def test_corrupt_weights_stop_the_process(models_dir: Path, tmp_path: Path) -> None:
    for path in models_dir.glob("*.npz"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "classic.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    env = environment(tmp_path)
    done = subprocess.run(uvicorn(free_port()), cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"cannot start: {tmp_path / 'classic.npz'}" in done.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_python_m_app_stops_on_corrupt_weights(models_dir: Path, tmp_path: Path, workers: str) -> None:
    # With several workers python -m app checks the weights before starting any: one message, not one each.
    for path in models_dir.glob("*.npz"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "classic.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    env = environment(tmp_path, DIGITPAD_WORKERS=workers, DIGITPAD_PORT=str(free_port()))
    command = [sys.executable, "-m", "app"]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"cannot start: {tmp_path / 'classic.npz'}" in done.stderr


def test_python_m_app_refuses_bad_settings(models_dir: Path) -> None:
    env = environment(models_dir, DIGITPAD_PORT="eighty")
    done = subprocess.run(
        [sys.executable, "-m", "app"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "DIGITPAD_PORT='eighty' is not a whole number" in done.stderr


def test_python_m_app_serves_on_the_configured_port(models_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = environment(models_dir, DIGITPAD_HOST="127.0.0.1", DIGITPAD_PORT=str(port), DIGITPAD_DEFAULT_MODEL="classic")
    with running([sys.executable, "-m", "app"], env, port, tmp_path / "server.log") as server:
        response = httpx.post(f"{server.url}/api/predict", json={"pixels": [0.0] * 784}, timeout=10)
        assert response.status_code == 200 and response.json()["model"] == "classic"
        assert "server" not in response.headers  # no version banner
