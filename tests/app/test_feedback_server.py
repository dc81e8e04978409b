"""The feedback store behind the real server: several worker processes writing at once, then a restart.

``python -m app`` with two worker processes (as the container runs it) takes 64 corrections from 16
threads, each on its own connection so the kernel spreads them over both processes; all 64 are kept
with distinct ids. A new server on the same store, started after the first has stopped, counts them.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.settings import Settings
from tests.app.feedback_stores import BACKENDS, drawing_pixels, empty_store, stored
from tests.app.serving import Server, environment, free_port, start


@contextmanager
def python_m_app(models_dir: Path, log: Path, **variables: str) -> Iterator[Server]:
    """``python -m app`` as the container runs it, stopped as ``docker stop`` does (SIGTERM, exit 0)."""
    port = free_port()
    env = environment(models_dir, DIGITPAD_PORT=str(port), **variables)
    server = start([sys.executable, "-m", "app"], env, port, log)
    try:
        yield server
        assert server.stop(signal.SIGTERM) == 0, server.output()
    finally:
        if server.process.poll() is None:  # the test failed first: SIGTERM stops the workers too, SIGKILL orphans them
            try:
                server.stop(signal.SIGTERM)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


def store_variables(settings: Settings) -> dict[str, str]:
    if settings.database_url:
        return {"DIGITPAD_DATABASE_URL": settings.database_url}
    return {"DIGITPAD_DATA_DIR": str(settings.data_dir)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_processes_then_a_restart(backend: str, models_dir: Path, settings: Settings, tmp_path: Path) -> None:
    with empty_store(backend, settings, tmp_path) as chosen:
        variables = store_variables(chosen)
        with python_m_app(models_dir, tmp_path / "first.log", DIGITPAD_WORKERS="2", **variables) as server:

            def send(i: int) -> int:
                predicted = (i + i // 10) % 10
                body = {"pixels": drawing_pixels(i), "label": i % 10, "predicted": predicted, "model": "default"}
                response = httpx.post(f"{server.url}/api/feedback", json=body, timeout=60)  # a new connection each
                assert response.status_code == 201, response.text
                return response.json()["id"]

            with ThreadPoolExecutor(16) as pool:
                ids = list(pool.map(send, range(64)))
            assert "Traceback" not in server.output()
        assert len(set(ids)) == 64

        with python_m_app(models_dir, tmp_path / "second.log", DIGITPAD_WORKERS="1", **variables) as server:
            stats = httpx.get(f"{server.url}/api/feedback/stats", timeout=60).json()
        right = sum(1 for i in range(64) if i // 10 % 10 == 0)  # predicted == label exactly when (i // 10) % 10 == 0
        assert stats == {
            "total": 64,
            "per_label": [7, 7, 7, 7, 6, 6, 6, 6, 6, 6],
            "accuracy": {"default": right / 64},
            "predictions": {"default": 64},
        }
        rows = stored(chosen)
        assert sorted(row["id"] for row in rows) == sorted(ids)
        by_id = {row["id"]: row for row in rows}
        for i, row_id in enumerate(ids):
            np.testing.assert_array_equal(by_id[row_id]["pixels"], np.array(drawing_pixels(i), dtype=np.float32))


def test_a_corrupt_database_does_not_stop_the_server(models_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "feedback.sqlite3").write_bytes(b"\x00garbage" * 512)
    variables = {"DIGITPAD_WORKERS": "1", "DIGITPAD_DATA_DIR": str(tmp_path)}
    with python_m_app(models_dir, tmp_path / "server.log", **variables) as server:
        response = httpx.post(f"{server.url}/api/feedback", json={"pixels": drawing_pixels(), "label": 1}, timeout=60)
        assert response.status_code == 503 and "not a database" in response.json()["detail"]
        assert httpx.post(f"{server.url}/api/predict", json={"pixels": drawing_pixels()}, timeout=60).status_code == 200
    log = server.output()
    assert "file is not a database" in log and "Traceback" not in log
