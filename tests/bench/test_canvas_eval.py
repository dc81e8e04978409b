"""bench.canvas_eval end to end on a small sample: a real server, real HTTP, the table and the contact sheet."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("scipy", reason="the canvas set needs the eval extra: pip install -e '.[eval]'")
pytest.importorskip("sklearn", reason="the UCI digits come from scikit-learn: pip install -e '.[eval]'")

from bench import canvas_eval, canvas_server  # noqa: E402
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


def test_small_evaluation_over_http(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_models(tmp_path)  # tiny untrained networks: the point is the plumbing, not the accuracy
    sheet = tmp_path / "out" / "mistakes.png"
    argv = ["--mnist", "12", "--uci", "8", "--data-dir", str(mnist_dir), "--sheet", str(sheet)]
    argv += ["--model", f"small={tmp_path / 'classic.npz'}", "--model", f"wide={tmp_path / 'default.npz'}"]
    assert canvas_eval.main(argv) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| style"))
    assert "small: mnist-test" in header and "wide: uci-digits" in header
    assert "| **all drawings** | 12 / 8 |" in out
    for row in ("colours: white on transparent", "pen: hairline", "pen: very bold", "canvas: non-square"):
        assert f"| {row}" in out
    mistakes = int(out.split("wide: ")[-1].split(" mistakes")[0])
    assert 0 < mistakes <= 20  # an untrained network gets most wrong
    with Image.open(sheet) as image:
        assert image.width > 100 and image.height > 100


def test_missing_weights_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert canvas_eval.main(["--model", f"x={tmp_path / 'none.npz'}"]) == 2
    assert "no weights file" in capsys.readouterr().err
