"""Settings and start-up: every model loads, or the process stops with a message naming the problem."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.registry import StartupError, load_models
from app.settings import REPO_ROOT, Settings, SettingsError
from model.network import Network
from model.weights import save


def test_default_settings() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.models_dir == REPO_ROOT / "model" / "weights"
    assert settings.default_model == "default"
    assert settings.max_body_bytes == 2 * 1024 * 1024
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 8000, "info")
    assert settings.cors_origins == ()
    assert settings.workers == len(os.sched_getaffinity(0))  # one server process per usable core


def test_settings_from_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "DIGITPAD_MODELS_DIR": str(tmp_path),
            "DIGITPAD_DEFAULT_MODEL": "classic",
            "DIGITPAD_MAX_BODY_BYTES": "1000",
            "DIGITPAD_HOST": "0.0.0.0",
            "DIGITPAD_PORT": "9000",
            "DIGITPAD_LOG_LEVEL": "WARNING",
            "DIGITPAD_CORS_ORIGINS": "https://a.example, https://b.example ,",
            "DIGITPAD_WORKERS": "3",
            "HOST": "ignored",
        }
    )
    assert settings.models_dir == tmp_path and settings.default_model == "classic"
    assert settings.max_body_bytes == 1000 and settings.host == "0.0.0.0" and settings.port == 9000
    assert settings.log_level == "warning"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.workers == 3


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("MAX_BODY_BYTES", "2MB", "DIGITPAD_MAX_BODY_BYTES='2MB' is not a whole number"),
        ("MAX_BODY_BYTES", "0", "at least 1"),
        ("PORT", "70000", "at most 65535"),
        ("LOG_LEVEL", "loud", "choose one of critical, error, warning, info, debug"),
        ("WORKERS", "0", "DIGITPAD_WORKERS=0 must be at least 1"),
        ("FEEDBACK", "maybe", "DIGITPAD_FEEDBACK='maybe': use on or off"),
        ("DATABASE_URL", "mysql://db/x", "must be a postgresql://"),
        ("FEEDBACK_MAX_ROWS", "0", "DIGITPAD_FEEDBACK_MAX_ROWS=0 must be at least 1"),
        ("FEEDBACK_MAX_ROWS", "lots", "is not a whole number"),
    ],
)
def test_bad_settings(name: str, value: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment.replace("(", r"\(")):
        Settings.from_env({f"DIGITPAD_{name}": value})


@pytest.fixture
def folder(tmp_path: Path, models_dir: Path) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    return copy


def test_loads_every_npz(folder: Path) -> None:
    save(folder / "tiny.npz", Network([784, 10], "softmax", "cross_entropy"), {"name": "whatever"})
    (folder / "notes.txt").write_text("not a model")
    registry = load_models(folder, "default")
    assert registry.names == ["classic", "default", "tiny"]  # named after the file, not the metadata
    assert registry.get(None).name == "default" and registry.get("tiny").info.layers == [784, 10]
    assert registry.get("tiny").info.history == [] and registry.get("tiny").info.test_accuracy is None


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda f: (f / "classic.npz").write_bytes(b"PK\x03\x04 truncated zip"), "classic.npz"),
        (lambda f: (f / "classic.npz").write_bytes((f / "classic.npz").read_bytes()[:500]), "classic.npz"),
        (lambda f: (f / "extra.npz").write_text("hello"), "extra.npz"),
        (lambda f: (f / "default.npz").unlink(), "default model 'default' has no file"),
        (lambda f: [p.unlink() for p in f.glob("*.npz")], "has no *.npz weights files"),
        (lambda f: shutil.rmtree(f), "does not exist"),
    ],
    ids=["corrupt", "truncated", "not-npz", "default-missing", "empty-folder", "no-folder"],
)
def test_startup_failures(folder: Path, damage, fragment: str) -> None:  # noqa: ANN001
    damage(folder)
    with pytest.raises(StartupError, match=fragment.replace("*", r"\*")) as caught:
        load_models(folder, "default")
    if "npz" in fragment:
        assert str(folder) in str(caught.value)  # the full path of the file
    # Through the app: the lifespan raises, so the app never serves a half-loaded set.
    app = create_app(Settings(models_dir=folder))
    with pytest.raises(StartupError), TestClient(app):
        pass


def test_damaged_compressed_data(folder: Path) -> None:
    path = folder / "classic.npz"
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("W1.npy")
    start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)  # local header size
    data[start + 10 : start + 60] = b"\xff" * 50  # garbage inside the deflate stream: zlib.error when read
    path.write_bytes(bytes(data))
    with pytest.raises(StartupError, match=r"classic\.npz: not a readable weights file"):
        load_models(folder, "default")


def test_wrong_shapes_are_refused(folder: Path) -> None:
    network = Network([784, 16, 10])
    network.weights[0] = network.weights[0][:, :100]  # 100 inputs instead of 784
    save(folder / "broken.npz", network, {})
    with pytest.raises(StartupError, match="broken.npz"):
        load_models(folder, "default")


@pytest.mark.parametrize(("given", "used"), [(None, "1"), ("", "1"), ("3", "3")])
def test_the_service_uses_one_blas_thread_unless_told(given: str | None, used: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given  # empty: set but saying nothing, which OpenBLAS ignores
    code = "import os, app; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.stdout.split() == [used, "1"], done.stderr


def test_what_start_up_built_is_out_of_the_collectors_reach(settings: Settings) -> None:
    """The lifespan freezes the objects start-up made, so full collections under load skip them."""
    gc.unfreeze()
    with TestClient(create_app(settings)):
        frozen = gc.get_freeze_count()
    assert frozen > 10_000  # modules, routes and schemas; a full collection of them took 40-90 ms
