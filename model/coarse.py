"""Low-resolution handwriting: digits reduced to 8×8 blocks of ink, and the centre lines a redrawing finds in them.

Much handwriting reaches a network at a far lower resolution than MNIST's 28×28: the UCI optical digits
are 8×8 counts of ink (each digit size-normalised into a 32×32 bitmap, its ink pixels counted in 4×4
blocks). Redrawn on a canvas from so little, a digit's strokes come out blunter than its writer's: loops
close or open, corners round off, a 9's tail runs into its loop. ``coarse_centre_lines`` makes the same
happen to MNIST training digits, so the pen augmentation (``model.augment``) can redraw them that way too:

1. ``reduce_to_blocks``: each digit's ink (above half its peak) is cropped, scaled so its longer side fills
   a 32×32 bitmap (bilinear), centred, cut at BITMAP_INK and counted in 4×4 blocks → (n, 8, 8);
2. the blocks are spread over a 40×40 grid (5 pixels a block) and smoothed, so each block's ink stays about
   where it was, and cut at INK_LEVEL of the brightest ink within about three blocks (a faint stroke is
   kept) → the digit's ink at the size of MNIST's 20×20 box, at twice the resolution;
3. centred in 56×56 and thinned (``model.strokes.thin``), like ``model.strokes.centre_lines``.

Pure NumPy, vectorised over the batch: the crop-and-scale of step 1 is, per image, an interpolation matrix
for the rows and one for the columns.
"""

from __future__ import annotations

import numpy as np

from model.strokes import thin

Array = np.ndarray
BITMAP, BLOCK = 32, 4  # the bitmap's side and the block's, in bitmap pixels: 8×8 blocks
BITMAP_INK = 0.35  # which bitmap pixels count as ink: at 0.35 the blocks have the UCI digits' stroke weight
FINE = 5  # grid pixels per block in step 2: 8 blocks → 40, MNIST's 20-pixel box at 56×56
INK_LEVEL, FLOOR = 0.3, 0.15  # step 2's cut: of the local peak, and at least of the digit's peak
LOCAL = 3 * FINE  # the local peak's window, grid pixels
SMOOTHING = 0.45 * FINE  # the Gaussian's sigma, grid pixels: a block's ink spreads into its neighbours' edges


def reduce_to_blocks(images: Array) -> Array:
    """Digits (n, h, w) grey, ink high → (n, 8, 8) float32 in [0, 1], the share of each block's pixels inked."""
    a = images.astype(np.float32) / np.maximum(images.max(axis=(1, 2), keepdims=True), 1e-6)
    ink = a > 0.5
    rows, cols = _Span(ink.any(axis=2)), _Span(ink.any(axis=1))  # the ink's extent down and across
    # Each image's bitmap is fitted to the *longer* side: the shorter one is scaled by the same factor.
    scale = np.minimum(rows.scale, cols.scale)[:, None, None]
    bitmap = _interpolate(rows.start, rows.length, scale, a.shape[1]) @ a
    bitmap = bitmap @ _interpolate(cols.start, cols.length, scale, a.shape[2]).transpose(0, 2, 1)  # (n, 32, 32)
    inked = bitmap > BITMAP_INK
    return inked.reshape(len(a), BITMAP // BLOCK, BLOCK, BITMAP // BLOCK, BLOCK).mean(axis=(2, 4), dtype=np.float32)


def coarse_centre_lines(images: Array, chunk: int = 2000) -> Array:
    """MNIST digits (n, 28, 28) in [0, 1] → the centre lines (n, 56, 56) bool of their 8×8 reductions."""
    out = np.zeros((len(images), 56, 56), dtype=bool)
    grid = FINE * BITMAP // BLOCK  # 40
    offset = (56 - grid) // 2
    spread = _smoothing_matrix(BITMAP // BLOCK)  # (40, 8)
    for start in range(0, len(images), chunk):
        blocks = reduce_to_blocks(images[start : start + chunk])
        fine = spread @ blocks @ spread.T  # (k, 40, 40)
        peak = _sliding_max(_sliding_max(fine, LOCAL, axis=1), LOCAL, axis=2)
        floor = FLOOR * fine.max(axis=(1, 2), keepdims=True)
        ink = (fine > INK_LEVEL * peak) & (fine > floor)
        out[start : start + chunk, offset : offset + grid, offset : offset + grid] = thin(ink)
    return out


class _Span:
    """Per image, where its ink starts along one axis, how long it is, and the scale that fits it to the bitmap."""

    def __init__(self, inked: Array) -> None:  # inked: (n, length) bool, whether each row (or column) holds ink
        any_ink = inked.any(axis=1)
        self.start = np.where(any_ink, inked.argmax(axis=1), 0).astype(np.float32)
        end = np.where(any_ink, inked.shape[1] - inked[:, ::-1].argmax(axis=1), 1)
        self.length = (end - self.start).astype(np.float32)  # ≥ 1
        self.scale = BITMAP / self.length


def _interpolate(start: Array, length: Array, scale: Array, size: int) -> Array:
    """(n, 32, size) matrices: row r of image k holds the bilinear weights of the source pixels that bitmap pixel
    r reads, the ink span [start, start + length) scaled by ``scale`` (n, 1, 1) and centred in the bitmap.

    Bitmap pixels beyond the scaled span read nothing (zero rows). Sources are clamped to the span, as an image
    library resizing the cropped digit does at its edges.
    """
    start, length = start[:, None, None], length[:, None, None]
    scaled = np.round(length * scale)  # (n, 1, 1) bitmap pixels the span covers
    first = np.floor((BITMAP - scaled) / 2)
    r = np.arange(BITMAP, dtype=np.float32)[None, :, None] - first  # (n, 32, 1) position in the scaled span
    source = np.clip(start + (r + 0.5) / scale - 0.5, start, start + length - 1)
    pixels = np.arange(size, dtype=np.float32)[None, None, :]
    weights = np.maximum(0.0, 1.0 - np.abs(pixels - source))  # the two nearest pixels, by distance
    return (weights * ((r >= 0) & (r < scaled))).astype(np.float32)


def _smoothing_matrix(blocks: int) -> Array:
    """(FINE·blocks, blocks): each block's value spread over its FINE grid pixels, then blurred by a Gaussian."""
    spread = np.kron(np.eye(blocks, dtype=np.float32), np.ones((FINE, 1), dtype=np.float32))  # (40, 8)
    idx = np.arange(FINE * blocks)
    blur = np.exp(-((idx[:, None] - idx[None, :]) ** 2) / (2 * SMOOTHING**2)).astype(np.float32)
    return (blur / blur.sum(axis=1, keepdims=True)) @ spread


def _sliding_max(a: Array, window: int, axis: int) -> Array:
    """The maximum over a centred window of ``window`` pixels along ``axis`` (edges read nothing beyond)."""
    half = window // 2
    pad = [(0, 0)] * a.ndim
    pad[axis] = (half, half)
    p = np.pad(a, pad)
    out = a.copy()
    for offset in range(window):
        np.maximum(out, np.take(p, range(offset, offset + a.shape[axis]), axis=axis), out=out)
    return out
