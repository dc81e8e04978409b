"""python -m app.feedback export: the service's store, on either backend, as model.feedback's .npz export.

The settings come from the environment, as for the service; the file written must read back through
model.feedback.load (what model.train --extra-data and model.evaluate --feedback use) as the rows stored.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.feedback import open_store
from app.feedback.export import main
from app.main import create_app
from app.settings import REPO_ROOT, Settings
from model import feedback
from tests.app.feedback_stores import drawing_pixels, stored
from tests.app.helpers import FOUR, data_url, draw, encode
from tests.app.serving import free_port

BODIES = [
    {"pixels": drawing_pixels(0), "label": 7, "predicted": 1, "model": "classic"},
    {"pixels": drawing_pixels(1), "label": 3},
    {"image": data_url(encode(draw(FOUR))), "label": 4, "predicted": 4, "model": "default"},
]


@pytest.fixture
def configured(feedback_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """``feedback_settings``'s store named in the environment, as an operator's shell would."""
    monkeypatch.delenv("DIGITPAD_DATABASE_URL", raising=False)
    monkeypatch.delenv("DIGITPAD_DATA_DIR", raising=False)
    if feedback_settings.database_url:
        monkeypatch.setenv("DIGITPAD_DATABASE_URL", feedback_settings.database_url)
    else:
        monkeypatch.setenv("DIGITPAD_DATA_DIR", str(feedback_settings.data_dir))
    return feedback_settings


def post_drawings(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        for body in BODIES:
            assert client.post("/api/feedback", json=body).status_code == 201


def one_error_line(capsys: pytest.CaptureFixture, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_the_export_reads_back_as_the_rows_stored(configured: Settings, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    post_drawings(configured)
    out = tmp_path / "exports" / "feedback.npz"
    assert main(["export", str(out)]) == 0
    assert capsys.readouterr().out.startswith("wrote 3 drawings from ")

    rows = stored(configured)
    loaded = feedback.load(out)
    assert loaded.source == out and len(loaded) == 3
    np.testing.assert_array_equal(loaded.ids, [row["id"] for row in rows])
    np.testing.assert_array_equal(loaded.labels, [7, 3, 4])
    np.testing.assert_array_equal(loaded.predicted, [1, -1, 4])
    assert loaded.models == ["classic", None, "default"]
    assert loaded.x.dtype == np.float32
    np.testing.assert_array_equal(loaded.x, np.stack([row["pixels"] for row in rows]))
    np.testing.assert_array_equal(loaded.x[0], np.array(BODIES[0]["pixels"], dtype=np.float32))
    for text, row in zip(loaded.created_at, rows):  # ISO 8601 UTC text from either database
        when = row["created_at"]
        assert text == (when if isinstance(when, str) else when.astimezone(UTC).isoformat())
        assert datetime.fromisoformat(text).utcoffset().total_seconds() == 0


def test_on_sqlite_the_file_is_the_one_model_feedback_writes(settings: Settings, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = replace(settings, data_dir=tmp_path / "data")
    post_drawings(chosen)
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(chosen.data_dir))
    monkeypatch.delenv("DIGITPAD_DATABASE_URL", raising=False)
    assert main(["export", str(tmp_path / "app.npz")]) == 0
    assert feedback.main(["export", str(chosen.data_dir / feedback.FILENAME), str(tmp_path / "model.npz")]) == 0
    with np.load(tmp_path / "app.npz") as ours, np.load(tmp_path / "model.npz") as theirs:
        assert sorted(ours.files) == sorted(theirs.files)
        for key in theirs.files:
            assert ours[key].dtype == theirs[key].dtype, key
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


def test_an_empty_store_exports_no_drawings(configured: Settings, tmp_path: Path) -> None:
    open_store(configured).stats()  # the service ran, nobody corrected anything yet
    assert main(["export", str(tmp_path / "out.npz")]) == 0
    empty = feedback.load(tmp_path / "out.npz")
    assert len(empty) == 0 and empty.x.shape == (0, 784)


def test_an_unwritable_output_is_one_line_and_exit_2(configured: Settings, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    post_drawings(configured)
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "out.npz"
    assert main(["export", str(out)]) == 2
    one_error_line(capsys, f"{out}: cannot write")
    assert len(stored(configured)) == 3  # nothing lost


def test_a_missing_sqlite_database_is_not_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("DIGITPAD_DATABASE_URL", raising=False)
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(tmp_path / "nowhere"))
    assert main(["export", str(tmp_path / "out.npz")]) == 2
    one_error_line(capsys, "no feedback database at", "DIGITPAD_DATA_DIR")
    assert not (tmp_path / "nowhere").exists() and not (tmp_path / "out.npz").exists()


def test_a_corrupt_sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "data").mkdir()
    garbage = np.random.default_rng(0).bytes(8192)
    (tmp_path / "data" / feedback.FILENAME).write_bytes(garbage)
    monkeypatch.delenv("DIGITPAD_DATABASE_URL", raising=False)
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(tmp_path / "data"))
    assert main(["export", str(tmp_path / "out.npz")]) == 2
    one_error_line(capsys, "not a database", "restore a backup")
    assert (tmp_path / "data" / feedback.FILENAME).read_bytes() == garbage
    assert not (tmp_path / "out.npz").exists()


def test_bad_settings_are_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("DIGITPAD_DATABASE_URL", "mysql://root@localhost/x")
    assert main(["export", str(tmp_path / "out.npz")]) == 2
    one_error_line(capsys, "DIGITPAD_DATABASE_URL must be a postgresql://")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export"])
    assert exit_.value.code == 2 and "out" in capsys.readouterr().err


def test_an_unreachable_postgresql_server_from_the_command_line(tmp_path: Path) -> None:
    """The real command: one line naming the server's answer, no password, exit 2 (no PostgreSQL needed)."""
    url = f"postgresql://digitpad:s3cret@127.0.0.1:{free_port()}/feedback"  # nothing listens there
    env = {**os.environ, "DIGITPAD_DATABASE_URL": url, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "app.feedback", "export", str(tmp_path / "out.npz")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: PostgreSQL postgresql://digitpad@127.0.0.1:")
    assert "cannot be reached" in done.stderr and "Connection refused" in done.stderr
    assert "s3cret" not in done.stderr and not (tmp_path / "out.npz").exists()
