"""Start-up faults through the real command (``python -m app``, as the container runs it): a missing models
folder, a truncated file, wrong shapes, a pickle inside, NaN weights → a message naming the file and the
problem, a non-zero exit, and the port never opens (no half-loaded set of models is ever served).

tests/app/test_startup.py checks the same faults in-process (load_models and the app's lifespan);
test_server.py the corrupt-archive case with uvicorn's own command line.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.settings import REPO_ROOT
from model.network import Network
from model.weights import save
from tests.app.serving import environment, free_port


def truncate(folder: Path) -> Path:
    path = folder / "classic.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def wrong_shapes(folder: Path) -> Path:
    network = Network([784, 16, 10])
    network.weights[1] = network.weights[1][:, :8]  # 8 inputs where the layer before has 16 neurons
    save(folder / "classic.npz", network, {"name": "classic"})
    return folder / "classic.npz"


def pickle_inside(folder: Path) -> Path:
    path = folder / "classic.npz"
    with np.load(path) as npz:
        arrays = {key: npz[key] for key in npz.files}
    np.savez(path, **arrays, payload=np.array([{"run": "code"}], dtype=object))  # an object array is a pickle
    return path


def nan_weights(folder: Path) -> Path:
    network = Network([784, 16, 10])
    network.weights[0][3, 5] = np.nan
    save(folder / "classic.npz", network, {"name": "classic"})
    return folder / "classic.npz"


def no_folder(folder: Path) -> Path:
    shutil.rmtree(folder)
    return folder


FAULTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing-folder": (no_folder, "does not exist"),
    "truncated": (truncate, "not a readable weights file"),
    "wrong-shapes": (wrong_shapes, "do not match sizes"),
    "pickle-inside": (pickle_inside, "pickled Python objects, which are never loaded"),
    "nan-weights": (nan_weights, "NaN or infinity"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_start_up_fault_stops_the_service(fault: str, models_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "models"
    shutil.copytree(models_dir, folder)
    damage, message = FAULTS[fault]
    named = damage(folder)
    port = free_port()
    env = environment(folder, DIGITPAD_HOST="127.0.0.1", DIGITPAD_PORT=str(port))
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "app"], cwd=REPO_ROOT, env=env, stdout=out, stderr=out)
    served = False
    deadline = time.monotonic() + 60
    try:
        while process.poll() is None and time.monotonic() < deadline:  # watch the port until the process ends
            with socket.socket() as sock:
                served = served or sock.connect_ex(("127.0.0.1", port)) == 0
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    output = log.read_text()
    assert process.returncode not in (0, None), output
    assert not served, "the port opened: something was served"
    assert "cannot start" in output and str(named) in output and message in output, output
    assert "Traceback" not in output, output  # one clear message, not a stack trace
