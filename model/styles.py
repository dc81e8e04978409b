"""Handwriting styles MNIST's census writers hardly used, added to its digits as augmentation.

MNIST's 1 is a single stroke. Much of the world writes it with a flag — a stroke running down and
to the left from the top, or from a little below it — and often a foot, a short bar under it; a
network trained on MNIST alone reads such a 1 as a 7, a 4 or a 2. ``add_flags`` draws a flag, and
sometimes a foot, on chosen 1s of a batch, with the stroke width of the digit itself.

Much of Europe crosses its 7s: a short bar across the stem, about halfway down. A network trained on
MNIST alone reads some as 9s or 4s (the tuning set's crossed 7s: 92.5% right before the default preset
drew crossbars on half its 7s, 96.1% after). ``add_crossbars`` draws the bar.

Everything is vectorised over the chosen images: each stroke is a segment, inked where a pixel
lies within half the stroke width of it, with a one-pixel soft edge as a canvas draws.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray
SIDE = 28
ONE, SEVEN = 1, 7


def add_flags(images: Array, labels: Array, rng: np.random.Generator, probability: float) -> Array:
    """Give each 1 of the batch, with ``probability``, a flag, and half of those a foot.

    images: (n, 28, 28) float32 in [0, 1], ink high; labels: (n,) digits → a new (n, 28, 28) batch.
    """
    chosen = np.flatnonzero((labels == ONE) & (rng.random(len(images)) < probability))
    chosen = chosen[images[chosen].max(axis=(1, 2)) > 0.5]  # a blank image has no top to start from
    if not len(chosen):
        return images
    m = len(chosen)
    ink = images[chosen] > 0.5  # (m, 28, 28)
    rows = np.arange(SIDE, dtype=np.float32)
    top, bottom = _span(ink.any(axis=2))  # (m,) first and last inked row
    height = np.maximum(bottom - top, 1).astype(np.float32)
    bottom_col = _mean_column(ink, bottom)  # (m,) where the stroke ends
    width = np.clip(images[chosen].sum(axis=(1, 2)) / height, 1.5, 4.0)  # a 1's ink mass / its height

    # The flag: down and to the left, 25–50% of the height long. It leaves the stem at its top, 25–55° below
    # horizontal (a 7's bar is near horizontal), or, in many hands, up to a third of the height lower down,
    # where the stem rising above it already tells it from a 7: then it may run flatter, down to 5°.
    length = rng.uniform(0.25, 0.5, m) * height
    drop = np.where(rng.random(m) < 0.5, 0.0, rng.uniform(0.1, 0.33, m))  # (m,) join, as a fraction of the height
    angle = np.deg2rad(rng.uniform(25 - 60 * drop, 55))  # (m,) flatter the lower it joins
    join = np.round(top + drop * height).astype(np.int64)  # (m,) the row where the flag leaves the stem
    join_col = np.where(ink[np.arange(m), join].any(axis=1), _mean_column(ink, join), _mean_column(ink, top))
    flag_start = np.stack([join, join_col], axis=1).astype(np.float32)  # (m, 2) as (row, col); a gap: the top's column
    flag_end = flag_start + np.stack([np.sin(angle) * length, -np.cos(angle) * length], axis=1)
    strokes = _segment_ink(flag_start, flag_end, width, rows)
    # The foot, on half of them: a bar under the stroke, 30–60% of the height wide.
    half = rng.uniform(0.15, 0.3, m) * height * (rng.random(m) < 0.5)  # 0: no foot
    foot_start = np.stack([bottom, bottom_col - half], axis=1).astype(np.float32)
    foot_end = np.stack([bottom, bottom_col + half], axis=1).astype(np.float32)
    strokes = np.maximum(strokes, _segment_ink(foot_start, foot_end, width, rows) * (half > 0)[:, None, None])

    images = images.copy()
    images[chosen] = np.maximum(images[chosen], strokes)
    return images


def add_crossbars(images: Array, labels: Array, rng: np.random.Generator, probability: float) -> Array:
    """Give each 7 of the batch, with ``probability``, a bar across its stem.

    images: (n, 28, 28) float32 in [0, 1], ink high; labels: (n,) digits → a new (n, 28, 28) batch.
    """
    chosen = np.flatnonzero((labels == SEVEN) & (rng.random(len(images)) < probability))
    if not len(chosen):
        return images
    m = len(chosen)
    ink = images[chosen] > 0.5  # (m, 28, 28)
    rows = np.arange(SIDE, dtype=np.float32)
    top, bottom = _span(ink.any(axis=2))
    left, right = _span(ink.any(axis=1))
    height = np.maximum(bottom - top, 1).astype(np.float32)
    width = np.maximum(right - left, 1)
    # A 7's stroke runs about its width (the bar) plus its height (the stem): its ink over that is the pen.
    pen = np.clip(images[chosen].sum(axis=(1, 2)) / (height + width), 1.5, 4.0)
    # The bar crosses the stem 40–60% of the way down, 30–50% of the height long, within 8° of level.
    row = np.round(top + rng.uniform(0.4, 0.6, m) * height).astype(np.int64)
    half = rng.uniform(0.15, 0.25, m) * height
    tilt = np.tan(np.deg2rad(rng.uniform(-8, 8, m))) * half
    centre = np.stack([row, _mean_column(ink, row)], axis=1).astype(np.float32)  # (m, 2) where the stem is
    offset = np.stack([tilt, half], axis=1).astype(np.float32)
    bars = _segment_ink(centre - offset, centre + offset, pen, rows)
    bars *= ink[np.arange(m), row].any(axis=1)[:, None, None]  # no stem in that row (a broken 7): no bar
    images = images.copy()
    images[chosen] = np.maximum(images[chosen], bars)
    return images


def _span(inked: Array) -> tuple[Array, Array]:
    """inked (m, 28) bool, whether each row (or column) holds ink → (m,) first and (m,) last index that does."""
    return inked.argmax(axis=1), SIDE - 1 - inked[:, ::-1].argmax(axis=1)


def _mean_column(ink: Array, row: Array) -> Array:
    """ink (m, 28, 28) bool, row (m,) → (m,) mean column of the ink in each image's given row."""
    line = ink[np.arange(len(ink)), row]  # (m, 28)
    return (line * np.arange(SIDE)).sum(axis=1) / np.maximum(line.sum(axis=1), 1)


def _segment_ink(start: Array, end: Array, width: Array, rows: Array) -> Array:
    """Segments start → end (m, 2) drawn with a round pen of ``width`` (m,) px: → (m, 28, 28) float32 ink.

    Each pixel's ink is 1 within half the width of the segment, fading to 0 over the next pixel.
    """
    py, px = rows[None, :, None], rows[None, None, :]  # pixel centres, broadcast over (m, 28, 28)
    sy, sx = start[:, 0, None, None], start[:, 1, None, None]
    dy, dx = (end - start)[:, 0, None, None], (end - start)[:, 1, None, None]
    # The closest point of the segment: start + t·(end − start), t clipped to [0, 1].
    t = np.clip(((py - sy) * dy + (px - sx) * dx) / np.maximum(dy * dy + dx * dx, 1e-6), 0.0, 1.0)
    distance = np.hypot(py - (sy + t * dy), px - (sx + t * dx))
    return np.clip(width[:, None, None] / 2 + 0.5 - distance, 0.0, 1.0).astype(np.float32)
