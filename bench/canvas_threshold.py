"""How to redraw an 8×8 digit: the ink threshold that best recovers the writer's strokes.

    python -m bench.canvas_threshold          # a table, one row per threshold

The UCI digits are 8×8 counts of ink pixels in 4×4 blocks. To redraw one on a canvas,
``bench.canvas_strokes.work_mask`` upsamples it and keeps what lies above a threshold. Too high a
threshold breaks strokes that cross a block's corner; too low a one fattens the digit. This script
chooses it without the UCI digits: it reduces 1,500 held-out MNIST *training* digits the UCI way
(``bench.canvas_tune.coarse``), reconstructs them at each threshold, and compares them with the
original digit: the overlap (intersection over union of the two shapes at 64×64) and how often the
reconstruction has more or fewer connected pieces than the writer drew.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image
from scipy.ndimage import label as connected_pieces

from bench.canvas_tune import BITMAP_INK, HOLDOUT, coarse
from model import mnist

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
SIDE = 64  # both shapes are compared at this size


def shape(digit: np.ndarray, threshold: float, crop_at: float) -> np.ndarray:
    """(h, w) grey digit → (SIDE, SIDE) bool: cropped to its ink (above crop_at × peak), upsampled, thresholded."""
    a = digit.astype(np.float32) / float(digit.max())
    rows, cols = np.flatnonzero((a > crop_at).any(axis=1)), np.flatnonzero((a > crop_at).any(axis=0))
    a = a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return np.asarray(Image.fromarray(a).resize((SIDE, SIDE), Image.Resampling.BICUBIC)) > threshold


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.canvas_threshold", description=__doc__.split("\n\n")[0])
    p.add_argument("--digits", type=int, default=1500, help="held-out training digits to compare")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    args = p.parse_args(argv)
    data = mnist.load(args.data_dir)
    originals = data.train_images[-HOLDOUT:][: args.digits]
    reduced = coarse(originals)
    written = [shape(d, BITMAP_INK, crop_at=0.5) for d in originals]  # the ink coarse() counts, cropped alike
    pieces = np.array([connected_pieces(w)[1] for w in written])
    print("| threshold | overlap (IoU) | more pieces than written | fewer pieces |\n| --- | --- | --- | --- |")
    for threshold in THRESHOLDS:
        rebuilt = [shape(r, threshold, crop_at=0.1) for r in reduced]
        overlap = np.mean([(w & r).sum() / (w | r).sum() for w, r in zip(written, rebuilt)])
        change = np.array([connected_pieces(r)[1] for r in rebuilt]) - pieces
        print(f"| {threshold} | {overlap:.3f} | {np.mean(change > 0):.1%} | {np.mean(change < 0):.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
