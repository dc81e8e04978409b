"""The tuning set's UCI-style reduction, and how 8×8 digits are redrawn (bench.canvas_tune, canvas_strokes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("scipy", reason="the canvas set needs the eval extra: pip install -e '.[eval]'")

from scipy.ndimage import label  # noqa: E402

from bench import canvas_strokes, canvas_tune  # noqa: E402
from bench.canvas_set import PENS  # noqa: E402
from bench.canvas_tune import coarse  # noqa: E402
from tests.app.helpers import write_models  # noqa: E402


def nine_in_blocks(stroke: int) -> np.ndarray:
    """A "9" in a 32×32 bitmap — a filled head, a ``stroke``-px tail — counted in 4×4 blocks as UCI did: (8, 8)."""
    image = Image.new("L", (32, 32), 0)
    pen = ImageDraw.Draw(image)
    pen.ellipse((10, 1, 27, 14), fill=255)
    pen.line((25, 10, 14, 31), fill=255, width=stroke)
    bitmap = (np.asarray(image) > 127).astype(np.float32)
    return bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))


def test_coarse_counts_ink_in_blocks_like_the_uci_digits() -> None:
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[4:24, 12:17] = 255  # a straight "1", 20 px tall and 5 wide: 8 px of the 32 once scaled, two full blocks
    reduced = coarse(digit[None])[0]
    assert reduced.shape == (8, 8) and reduced.min() >= 0 and reduced.max() == 16
    assert (reduced.sum(axis=1) > 0).all()  # scaled to fill the 32 px height, as UCI's normalisation did
    assert (reduced.sum(axis=0) > 0).sum() <= 2  # and kept its aspect: a thin bar stays a column or two


def test_thin_strokes_of_an_8x8_digit_stay_joined() -> None:
    blocks = nine_in_blocks(stroke=3)  # its tail covers part of each block it crosses, its head all of them
    assert label(canvas_strokes.work_mask(blocks))[1] == 1
    half_the_peak = canvas_strokes.work_mask(blocks, block_level=canvas_strokes.INK_LEVEL)
    assert label(half_the_peak)[1] > 1  # cuts the tail off the head


def test_an_8x8_digit_is_upsampled_as_areas() -> None:
    """Each block's ink stays in its block: the density summed over a block gives back (about) its count."""
    blocks = nine_in_blocks(stroke=3)
    density = canvas_strokes.area_upsample(blocks, (80, 80))  # 10 × 10 fine pixels per block
    assert density.shape == (80, 80) and density.min() >= 0
    per_block = density.reshape(8, 10, 8, 10).sum(axis=(1, 3))
    assert np.abs(per_block - blocks).max() < 3  # of 16: only the spline's clipped negative lobes are lost
    assert per_block.sum() == pytest.approx(blocks.sum(), rel=0.1)
    assert density[blocks.repeat(10, 0).repeat(10, 1) == 0].sum() < 0.1 * density.sum()  # little ink in empty blocks


def test_scores_and_the_table_per_pen_come_from_one_cached_build(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(canvas_tune, "HOLDOUT", 30)  # the last 30 training digits, drawn three ways
    monkeypatch.setattr(canvas_tune, "REPO", tmp_path)  # the cache goes under tmp_path/bench/out
    write_models(tmp_path)
    argv = [str(tmp_path / "default.npz"), str(tmp_path / "classic.npz"), "--by-pen", "--data-dir", str(mnist_dir)]
    assert canvas_tune.main(argv) == 0
    first = capsys.readouterr()
    assert "built the canvas tuning set" in first.err
    rows = {line.split(" | ")[0].lstrip("| "): line.strip("| ").split(" | ")[1:] for line in first.out.splitlines()}
    (cache,) = (tmp_path / "bench" / "out").glob("canvas-tune-v8-*.npz")
    with np.load(cache, allow_pickle=False) as f:
        pens = {name: f[f"{name}_pens"] for name in ("canvas", "coarse")}
    assert len(pens["canvas"]) == 30 and set(pens["canvas"]) <= set(PENS)
    # Each file's per-pen shares, weighted by how many drawings each pen has, give back its drawings and 8×8 scores.
    for k, weights in enumerate(argv[:2]):
        canvas, coarse_score = (float(cell.rstrip("%")) for cell in rows[weights][1:3])
        for column, (name, score) in enumerate((("canvas", canvas), ("coarse", coarse_score))):
            per_pen = [(float(rows[pen][2 * k + column].rstrip("%")), (pens[name] == pen).sum()) for pen in PENS]
            assert sum(share * n for share, n in per_pen) / 30 == pytest.approx(score, abs=0.01)
    assert canvas_tune.main(argv) == 0
    second = capsys.readouterr()
    assert second.out == first.out and "built the" not in second.err  # from the cache, the same figures
