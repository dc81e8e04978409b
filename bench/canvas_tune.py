"""The tuning set for real drawings: canvas renderings of *held-out training* digits, in process.

    python -m bench.canvas_tune /tmp/runs/a.npz /tmp/runs/b.npz   # accuracy of each weights file
    python -m bench.canvas_tune model/weights/default.npz --by-pen   # and per pen, for drawings and 8×8

The canvas set (bench.canvas_eval) is for reporting only; choosing augmentation or a model on it
would tune to the test. This set is built the same way from the last 5,000 MNIST *training*
digits — the slice ``model.train`` holds out by default — in three sets:

- ``canvas``: each digit drawn in a random canvas style (bench.canvas_set), as the evaluation does;
- ``coarse``: each digit first reduced the way the UCI optical digits were made (size-normalised
  into a 32×32 bitmap, ink counted in 4×4 blocks: an 8×8 image of 0..16), then drawn likewise.
  It stands for low-resolution handwriting without looking at the UCI digits themselves;
- ``styled``: as ``canvas``, but every 1 written with a flag, half of them with a foot, and every 7
  crossed (``model.styles``, seeds of their own), the other digits as they are: a flagged 1 must not
  become a 7, nor a crossed 7 a 4 or a 9.

Drawings go through the service's own preprocessing (``app.preprocess``) but not over HTTP, so a
weights file is scored in seconds. The preprocessed vectors are cached under bench/out/, named by
the seed and the ink levels; delete ``bench/out/canvas-tune-*.npz`` after changing how digits are drawn.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from app.preprocess import preprocess, resize_longer_side
from bench.canvas_set import PENS, drawings
from bench.canvas_strokes import BLOCK_INK_LEVEL, FLOOR, HOLE_DEPTH, LOCAL_RADIUS, ink_box
from model import mnist
from model.evaluate import predict
from model.styles import add_crossbars, add_flags
from model.weights import load

REPO = Path(__file__).resolve().parent.parent
HOLDOUT = 5000  # the last training digits, held out by model.train's default --holdout
SETS = ("canvas", "coarse", "styled")


# Which pixels of the 32×32 bitmap count as ink: at 0.35 of the peak the reduced digits have the UCI
# digits' stroke weight — 33 inked blocks of 64 holding 9.5 of 16 pixels on average, 44% of them ≥ 12,
# against 32.7, 9.6 and 43% for the 1,797 UCI digits (at 0.5: 31, 8.9 and 37%: thinner).
BITMAP_INK = 0.35


def coarse(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) grey digits → (n, 8, 8) float32 in 0..16, as the UCI optical digits were made.

    The digit's ink (above half its peak) is cropped, scaled so its longer side fills a 32×32 bitmap,
    centred, and the ink pixels (above BITMAP_INK) of each 4×4 block counted.
    """
    out = np.zeros((len(images), 8, 8), dtype=np.float32)
    for k, digit in enumerate(images):
        a = digit.astype(np.float32) / max(float(digit.max()), 1.0)
        big = resize_longer_side(ink_box(a, 0.5), 32, Image.Resampling.BILINEAR) > BITMAP_INK
        h, w = big.shape
        bitmap = np.zeros((32, 32), dtype=np.float32)
        top, left = (32 - h) // 2, (32 - w) // 2
        bitmap[top : top + h, left : left + w] = big
        out[k] = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))
    return out


@dataclass(frozen=True)
class TuningSet:
    """One tuning set as the network sees it."""

    x: np.ndarray  # (n, 784) float32, preprocessed by the service's own code
    y: np.ndarray  # (n,) int64 digits
    pens: np.ndarray  # (n,) str: each drawing's pen (bench.canvas_set.PENS)


def tuning_sets(data: mnist.Mnist, seed: int = 0) -> dict[str, TuningSet]:
    """name → the tuning set of that name; built once, then cached."""
    # v8: dips in the ink reopened (bench.canvas_strokes.HOLE_DEPTH); v7: each drawing's pen kept too; v6: 8×8
    # digits upsampled as areas; v5: ink cut at half its local peak; v4: the styled set's 7s are crossed. (v6 and
    # v7 hold the same drawings.) Sharpening (SHARPEN) is not in the name: it touches digits of 16 px or fewer, and
    # this set's are 28×28 and 8×8 (blocks, never sharpened).
    levels = f"ink{BITMAP_INK}-block{BLOCK_INK_LEVEL}-local{LOCAL_RADIUS}-floor{FLOOR}-dips{HOLE_DEPTH}"
    cache = REPO / "bench" / "out" / f"canvas-tune-v8-seed{seed}-{levels}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as f:
            return {name: TuningSet(f[f"{name}_x"], f[f"{name}_y"], f[f"{name}_pens"]) for name in SETS}
    images, labels = data.train_images[-HOLDOUT:], data.train_labels[-HOLDOUT:]
    sets = {}
    styled = add_flags(images.astype(np.float32) / 255, labels, np.random.default_rng(seed + 1000), 1.0)
    styled = add_crossbars(styled, labels, np.random.default_rng(seed + 1001), 1.0)
    for name, digits in (("canvas", images), ("coarse", coarse(images)), ("styled", styled)):
        started = time.perf_counter()
        built = list(drawings(digits, labels, "mnist-train", seed))  # the same styles, pens too, in all three sets
        x = np.stack([preprocess(d.image).pixels for d in built])
        sets[name] = TuningSet(x, labels.astype(np.int64), np.array([d.style.pen for d in built]))
        print(f"built the {name} tuning set in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    cache.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{name}_{part}": getattr(t, part) for name, t in sets.items() for part in ("x", "y", "pens")}
    np.savez(cache, **arrays)
    return sets


def share(right: np.ndarray, among: np.ndarray | None = None) -> str:
    """The share of True in ``right`` (n,) bool, or in its ``among`` (n,) bool part, as "99.12%" ("–" if none)."""
    picked = right if among is None else right[among]
    return f"{picked.mean():.2%}" if len(picked) else "–"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.canvas_tune", description=__doc__.split("\n\n")[0])
    p.add_argument("weights", nargs="+", type=Path, help="weights files to score")
    p.add_argument("--seed", type=int, default=0, help="seed of the drawing styles")
    p.add_argument("--by-pen", action="store_true", help="also a table per pen: the drawings and 8×8 sets")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    args = p.parse_args(argv)
    try:
        data = mnist.load(args.data_dir)
        models = {path: load(path).network for path in args.weights}
    except Exception as err:  # noqa: BLE001 — a readable line, not a traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    sets = tuning_sets(data, args.seed)
    vectors, digits = mnist.as_vectors(data.train_images[-HOLDOUT:]), data.train_labels[-HOLDOUT:]
    right: dict[Path, dict[str, np.ndarray]] = {}  # weights → set → whether each vector or drawing was recognised
    for path, network in models.items():
        right[path] = {"held-out": predict(network, vectors) == digits}
        right[path] |= {name: predict(network, t.x) == t.y for name, t in sets.items()}
    styled_y = sets["styled"].y
    print("| weights | held-out vectors | " + " | ".join(SETS) + " | flagged 1s | crossed 7s |")
    print("|" + " --- |" * (len(SETS) + 4))
    for path in models:
        scores = [share(right[path][name]) for name in ("held-out", *SETS)]
        scores += [share(right[path]["styled"], styled_y == digit) for digit in (1, 7)]
        print(f"| {path} | " + " | ".join(scores) + " |")
    if args.by_pen:
        print("\n| pen | " + " | ".join(f"{path}: {name}" for path in models for name in ("canvas", "coarse")) + " |")
        print("|" + " --- |" * (1 + 2 * len(models)))
        for pen in PENS:
            cells = [
                share(right[path][name], sets[name].pens == pen) for path in models for name in ("canvas", "coarse")
            ]
            print(f"| {pen} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
