"""How faithfully the canvas set redraws a low-resolution digit — measured without any network.

    python -m bench.canvas_fidelity            # a table: one row per resolution

Every pen style of the canvas set redraws a digit along its centre line (``bench.canvas_strokes``).
From a 28×28 MNIST digit the centre line is clear; from a 16×16 USPS digit or an 8×8 UCI digit it
is guessed from a few grey pixels, and a wrong guess changes the digit (a loop closes or opens, a
stroke goes missing) while its label stays. This script measures the guess on held-out MNIST
*training* digits, whose strokes are known: each is reduced the USPS way (its ink box
box-averaged to 16 px, grey) and the UCI way (``bench.canvas_tune.coarse``: 8×8 block counts),
and the centre line the canvas set finds in the reduction is compared with the one it finds in the
digit itself:

- loops differ: the two centre lines drawn with an MNIST-width pen (a tenth of the digit's size)
  enclose a different number of holes — a 4 whose top closed, an 8 with one loop left;
- strays: somewhere the lines are further apart than 0.15 of the digit's size (a missing or
  invented stroke);
- mean distance between the lines (symmetric, in fractions of the digit's size).
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image
from scipy.ndimage import distance_transform_edt
from scipy.ndimage import label as connected_pieces

from bench.canvas_strokes import pen_path, work_mask
from bench.canvas_tune import HOLDOUT, coarse
from model import mnist

GRID = 100  # centre lines are compared on a grid this many cells across the digit's longer side
PEN = 0.1  # pen width, as a fraction of the digit's longer side, when counting loops
STRAY = 0.15  # lines further apart than this (fraction of the digit's size) somewhere: a stroke missing or added


def usps_like(images: np.ndarray, side: int = 16) -> np.ndarray:
    """(n, 28, 28) grey digits → (n, side, side) float32 in [0, 1]: the ink box box-averaged to ``side``, centred."""
    out = np.zeros((len(images), side, side), dtype=np.float32)
    for k, digit in enumerate(images):
        a = digit.astype(np.float32) / max(float(digit.max()), 1.0)
        rows, cols = np.flatnonzero((a > 0.1).any(axis=1)), np.flatnonzero((a > 0.1).any(axis=0))
        a = a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        h, w = a.shape
        size = (max(1, round(side * w / max(h, w))), max(1, round(side * h / max(h, w))))
        top, left = (side - size[1]) // 2, (side - size[0]) // 2
        out[k, top : top + size[1], left : left + size[0]] = Image.fromarray(a).resize(size, Image.Resampling.BOX)
    return out


def half_pixel_shift(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) → the same digits moved half a pixel right and down (bilinear): nothing a reader would notice."""
    a = images.astype(np.float32)
    return (a + np.roll(a, 1, axis=1) + np.roll(a, 1, axis=2) + np.roll(np.roll(a, 1, axis=1), 1, axis=2)) / 4


def centre_line(digit: np.ndarray) -> np.ndarray:
    """(h, w) grey digit → (GRID + 1, GRID + 1) bool: the canvas set's centre line, its longer side GRID cells."""
    ys, xs = np.nonzero(pen_path(work_mask(digit)))
    points = np.stack([ys, xs], axis=1).astype(np.float64)
    points -= points.min(axis=0)
    cells = np.round(points * GRID / max(float(points.max()), 1.0)).astype(int)
    grid = np.zeros((GRID + 1, GRID + 1), dtype=bool)
    grid[cells[:, 0], cells[:, 1]] = True
    return grid


def loops(line: np.ndarray) -> int:
    """Holes enclosed by the centre line drawn with a pen PEN × GRID cells wide."""
    ink = np.pad(distance_transform_edt(~line) <= PEN * GRID / 2, 2)
    return connected_pieces(~ink)[1] - 1  # background pieces other than the outside


def compare(written: np.ndarray, guessed: np.ndarray) -> tuple[bool, bool, float]:
    """Two centre lines → (loops differ, a stray, mean distance as a fraction of the digit's size)."""
    to_written, to_guessed = distance_transform_edt(~written), distance_transform_edt(~guessed)
    worst = max(float(to_written[guessed].max()), float(to_guessed[written].max())) / GRID
    mean = (float(to_written[guessed].mean()) + float(to_guessed[written].mean())) / 2 / GRID
    return loops(written) != loops(guessed), worst > STRAY, mean


REDUCTIONS = {  # table row → how the digits (n, 28, 28) are reduced
    "none: 28×28 moved by half a pixel (the measure's own noise)": half_pixel_shift,
    "USPS-like, 16×16 grey": usps_like,
    "UCI-like, 8×8 counts": coarse,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.canvas_fidelity", description=__doc__.split("\n\n")[0])
    p.add_argument("--digits", type=int, default=1000, help="held-out training digits to compare")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    args = p.parse_args(argv)
    try:
        data = mnist.load(args.data_dir)
    except mnist.MnistError as err:
        print(f"error: {err}")
        return 2
    originals = data.train_images[-HOLDOUT:][: args.digits]
    written = [centre_line(d) for d in originals]
    print(f"{len(originals)} held-out MNIST training digits; centre lines found in a reduction against in the digit")
    print("| reduction | loops differ | strays (> 0.15 apart) | mean distance |\n| --- | --- | --- | --- |")
    for name, reduce in REDUCTIONS.items():
        results = np.array([compare(w, centre_line(r)) for w, r in zip(written, reduce(originals))])
        loops_differ, strays, mean = results.mean(axis=0)
        print(f"| {name} | {loops_differ:.1%} | {strays:.1%} | {mean:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
