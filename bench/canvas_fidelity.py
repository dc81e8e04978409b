"""How faithfully the canvas set redraws a digit's strokes — measured without any network.

    python -m bench.canvas_fidelity            # a table: one row per kind of source digit

Every pen style of the canvas set redraws a digit along its centre line (``bench.canvas_strokes``),
found in the digit's ink mask. A wrong mask changes the digit (a loop closes or opens, a stroke goes
missing) while its label stays: a faint stroke cut away, a 16×16 or 8×8 digit whose few grey pixels
have to be guessed into strokes. This script measures it on held-out MNIST *training* digits, whose
strokes are known: each is changed as a source would change it — moved half a pixel (nothing a
reader would notice: the measure's own noise), inked unevenly (a smooth random pen pressure, 25–100%),
reduced the USPS way (its ink box box-averaged to 16 px, grey; and blurred as much as USPS's own digits are)
or the UCI way (``bench.canvas_tune.coarse``: 8×8 block counts) — and the centre line found in the changed
digit is compared with the one found in the digit itself, both the canvas set's way and the way it was before
16×16 digits were sharpened and enclosed dips reopened (``bench.canvas_strokes``), or another way with
``--radius`` (the local peak's) and ``--block-level``:

- loops differ: the two centre lines drawn with an MNIST-width pen (a tenth of the digit's size)
  enclose a different number of holes — a 4 whose top closed, an 8 with one loop left;
- strays: somewhere the lines are further apart than 0.15 of the digit's size (a missing or
  invented stroke);
- mean distance between the two lines, both ways, in fractions of the digit's size.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image
from scipy.ndimage import distance_transform_edt, gaussian_filter
from scipy.ndimage import label as connected_pieces

from app.preprocess import resize_longer_side
from bench.canvas_strokes import BLOCK_INK_LEVEL, HOLE_DEPTH, LOCAL_RADIUS, SHARPEN, ink_box, pen_path, work_mask
from bench.canvas_tune import HOLDOUT, coarse
from model import mnist

USPS_BLUR = 0.75  # px: usps_blurred's Gaussian
GRID = 100  # centre lines are compared on a grid this many cells across the digit's longer side
PEN = 0.1  # pen width, as a fraction of the digit's longer side, when counting loops
STRAY = 0.15  # lines further apart than this (fraction of the digit's size) somewhere: a stroke missing or added


def usps_like(images: np.ndarray, side: int = 16) -> np.ndarray:
    """(n, 28, 28) grey digits → (n, side, side) float32 in [0, 1]: the ink box box-averaged to ``side``, centred."""
    out = np.zeros((len(images), side, side), dtype=np.float32)
    for k, digit in enumerate(images):
        a = digit.astype(np.float32) / max(float(digit.max()), 1.0)
        small = resize_longer_side(ink_box(a, 0.1), side, Image.Resampling.BOX)
        h, w = small.shape
        top, left = (side - h) // 2, (side - w) // 2
        out[k, top : top + h, left : left + w] = small
    return out


def usps_blurred(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) → (n, 16, 16): ``usps_like``, blurred as USPS's digits are (their grey edges cover 45% of the
    frame; a Gaussian of 0.75 px gives these 45% too, against 21% unblurred)."""
    return np.stack([gaussian_filter(digit, USPS_BLUR) for digit in usps_like(images)])


def half_pixel_shift(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) → the same digits moved half a pixel right and down (bilinear): nothing a reader would notice."""
    a = images.astype(np.float32)
    return (a + np.roll(a, 1, axis=1) + np.roll(a, 1, axis=2) + np.roll(np.roll(a, 1, axis=1), 1, axis=2)) / 4


def uneven_ink(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """(n, 28, 28) → float32, each digit's ink scaled by a smooth random pressure of 25–100% across it."""
    rng = np.random.default_rng(seed)
    out = np.empty(images.shape, dtype=np.float32)
    for k, digit in enumerate(images):
        field = gaussian_filter(rng.standard_normal(digit.shape), 5)  # changes over about a third of the digit
        field = (field - field.min()) / max(float(field.max() - field.min()), 1e-9)
        out[k] = digit * (0.25 + 0.75 * field)
    return out


def centre_line(digit: np.ndarray, **how: float) -> np.ndarray:
    """(h, w) grey digit → (GRID + 1, GRID + 1) bool: the canvas set's centre line, its longer side GRID cells.

    how: settings of ``bench.canvas_strokes.work_mask`` (local_radius, block_level, sharpen, hole_depth)."""
    ys, xs = np.nonzero(pen_path(work_mask(digit, **how)))
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


REDUCTIONS = {  # table row → how the digits (n, 28, 28) are changed
    "28×28 moved by half a pixel (the measure's own noise)": half_pixel_shift,
    "28×28, uneven ink": uneven_ink,
    "USPS-like, 16×16 grey": usps_like,
    "USPS-like, uneven ink": lambda images: usps_like(uneven_ink(images)),
    "USPS-like, blurred as USPS's digits": usps_blurred,
    "UCI-like, 8×8 counts": coarse,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.canvas_fidelity", description=__doc__.split("\n\n")[0])
    p.add_argument("--digits", type=int, default=1000, help="held-out training digits to compare")
    p.add_argument(
        "--radius",
        type=float,
        default=LOCAL_RADIUS,
        help=f"the local peak's radius in the source digit's pixels (default {LOCAL_RADIUS}, the canvas set's)",
    )
    p.add_argument(
        "--block-level",
        type=float,
        default=BLOCK_INK_LEVEL,
        help=f"where 8×8 digits are cut, as a fraction of the peak (default {BLOCK_INK_LEVEL}, the canvas set's)",
    )
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    args = p.parse_args(argv)
    try:
        data = mnist.load(args.data_dir)
    except mnist.MnistError as err:
        print(f"error: {err}")
        return 2
    originals = data.train_images[-HOLDOUT:][: args.digits]
    chosen = {"local_radius": args.radius, "block_level": args.block_level}
    ways = {  # column → work_mask's settings
        "the canvas set's": {**chosen, "sharpen": SHARPEN, "hole_depth": HOLE_DEPTH},
        "without sharpening or reopened dips": {**chosen, "sharpen": 0.0, "hole_depth": 0.0},
    }
    written = {way: [centre_line(d, **how) for d in originals] for way, how in ways.items()}  # each way's own
    print(f"{len(originals)} held-out MNIST training digits: centre lines in a changed digit against in the digit")
    print("| source digit | " + " | ".join(f"{w}: loops differ | strays | mean distance" for w in ways) + " |")
    print("| --- |" + " --- | --- | --- |" * len(ways))
    for name, change in REDUCTIONS.items():
        changed = change(originals)
        cells = []
        for way, how in ways.items():
            guessed = (centre_line(c, **how) for c in changed)
            results = np.array([compare(w, g) for w, g in zip(written[way], guessed)])
            loops_differ, strays, mean = results.mean(axis=0)
            cells += [f"{loops_differ:.1%}", f"{strays:.1%}", f"{mean:.3f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
