"""Low-resolution handwriting: digits reduced to 8×8 block counts, and their centre lines drawn back from them.

Digits scanned or drawn at a few pixels across lose what made them that digit: an 8's loops fill in,
a 4's stem shrinks to a half-inked block. The UCI optical digits were made that way (Alpaydın &
Kaynak 1998): the digit, size-normalised into a 32×32 bitmap, is counted in 4×4 blocks, an 8×8
image of 0..16. ``reduce_to_blocks`` does the same to MNIST digits; ``coarse_lines`` rebuilds a
centre line from the counts — upsampled, cut at a level, thinned — which the pen augmentation
(``model.augment.redraw``) draws like any other centre line, so the network sees what such a digit
looks like once someone redraws it.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from model.strokes import thin

Array = np.ndarray
BITMAP = 32  # the UCI digits' bitmap side; 4×4 blocks of it make the 8×8 counts
LINE_SIDE = 56  # centre lines are at twice MNIST's resolution (model.strokes)
LINE_BOX = 40  # the rebuilt digit's longer side there: MNIST's 20-px box, doubled
# Which pixels of the 32×32 bitmap count as ink: at 0.35 of the peak MNIST digits reduced to 8×8 have the UCI
# digits' stroke weight — 33 inked blocks of 64 holding 9.5 of 16 pixels on average, 44% of them ≥ 12,
# against 32.7, 9.6 and 43% for the 1,797 UCI digits (at 0.5: 31, 8.9 and 37%: thinner).
UCI_INK = 0.35


def reduce_to_blocks(images: Array, ink: float | Array = UCI_INK) -> Array:
    """(n, 28, 28) grey digits → (n, 8, 8) float32 block counts in 0..16, the UCI way.

    The digit's ink (above half its peak) is cropped, scaled so its longer side fills a 32×32 bitmap,
    centred, and the bitmap's pixels above ``ink`` of the peak (one level, or one per digit (n,))
    counted in each 4×4 block.
    """
    levels = np.broadcast_to(np.asarray(ink, dtype=np.float32), (len(images),))
    out = np.zeros((len(images), 8, 8), dtype=np.float32)
    for k, digit in enumerate(images):
        a = digit.astype(np.float32) / max(float(digit.max()), 1e-6)
        rows, cols = np.flatnonzero((a > 0.5).any(axis=1)), np.flatnonzero((a > 0.5).any(axis=0))
        if not len(rows):
            continue  # a blank digit counts no ink
        a = a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        h, w = a.shape
        size = (max(1, round(BITMAP * w / max(h, w))), max(1, round(BITMAP * h / max(h, w))))
        big = np.asarray(Image.fromarray(a).resize(size, Image.Resampling.BILINEAR)) > levels[k]
        bitmap = np.zeros((BITMAP, BITMAP), dtype=np.float32)
        top, left = (BITMAP - size[1]) // 2, (BITMAP - size[0]) // 2
        bitmap[top : top + size[1], left : left + size[0]] = big
        out[k] = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))
    return out


def rebuild(blocks: Array, cut: float = 0.4) -> Array:
    """(8, 8) block counts → (56, 56) bool ink: the written shape as far as the counts tell it.

    Smoothly upsampled (bicubic) so its longer side is LINE_BOX pixels, cut at ``cut`` of its peak
    (a thin stroke across a block's corner leaves a low count: bench.canvas_threshold found 0.4
    rebuilds the written shape best), and placed with its centre of mass at the centre, as MNIST is.
    """
    out = np.zeros((LINE_SIDE, LINE_SIDE), dtype=bool)
    peak = float(blocks.max())
    if peak <= 0:
        return out
    a = blocks.astype(np.float32) / peak
    rows, cols = np.flatnonzero((a > 0.1).any(axis=1)), np.flatnonzero((a > 0.1).any(axis=0))
    a = np.pad(a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], 1)  # a blank margin, as bench.canvas_strokes
    h, w = a.shape
    scale = LINE_BOX / max(h - 2, w - 2)
    size = (max(3, round(w * scale)), max(3, round(h * scale)))
    mask = np.asarray(Image.fromarray(a).resize(size, Image.Resampling.BICUBIC)) > cut
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return out
    # Shift so the centre of mass lands on the frame's centre; what falls outside is dropped.
    dy, dx = round(LINE_SIDE / 2 - ys.mean()), round(LINE_SIDE / 2 - xs.mean())
    ys, xs = ys + dy, xs + dx
    inside = (ys >= 0) & (ys < LINE_SIDE) & (xs >= 0) & (xs < LINE_SIDE)
    out[ys[inside], xs[inside]] = True
    return out


def coarse_lines(images: Array, rng: np.random.Generator, ink: tuple[float, float] = (0.25, 0.5)) -> Array:
    """MNIST digits (n, 28, 28) in [0, 1] → (n, 56, 56) bool centre lines of their 8×8 reductions.

    Each digit is reduced with its own ink level drawn from ``ink`` (writers' stroke weights differ:
    a lower level counts more of a faint stroke), rebuilt, and thinned (model.strokes.thin).
    """
    blocks = reduce_to_blocks(images, rng.uniform(*ink, len(images)).astype(np.float32))
    out = np.empty((len(images), LINE_SIDE, LINE_SIDE), dtype=bool)
    chunk = 2000
    for start in range(0, len(images), chunk):
        masks = np.stack([rebuild(b) for b in blocks[start : start + chunk]])
        out[start : start + chunk] = thin(masks)
    return out
