"""Pen strokes: thin a batch of digits to their centre lines, and draw them again with a round pen.

A digit drawn on a canvas has strokes of one width all along (the pen's), with round ends;
MNIST's strokes vary along their length and some loops are filled in. ``restroke`` redraws
MNIST training digits that way, for augmentation:

1. ``centre_lines``: each 28×28 digit is upsampled 2× (bilinear), thresholded at half
   intensity and thinned (Zhang & Suen 1984) to a one-pixel centre line at 56×56 —
   computed once per training image, vectorised over the whole batch;
2. ``restroke``: the centre line is dilated by a pen of a per-image radius (a few 3×3
   steps, alternating square and cross, so the pen is an octagon close to a disc) and
   averaged back down to 28×28, which gives the strokes anti-aliased edges.

Pure NumPy; every loop runs over thinning iterations, pen radii or chunks, never pixels.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def upsample2(images: Array) -> Array:
    """Bilinear 2× upsampling, pixel centres aligned: (n, h, w) → (n, 2h, 2w) float32, zero outside."""
    x = images.astype(np.float32)
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (1, 1)
        p = np.pad(x, pad)
        body = [slice(None)] * 3
        before, after, centre = list(body), list(body), list(body)
        before[axis], centre[axis], after[axis] = slice(0, -2), slice(1, -1), slice(2, None)
        near = 0.75 * p[tuple(centre)]
        lo, hi = near + 0.25 * p[tuple(before)], near + 0.25 * p[tuple(after)]  # the ¼ and ¾ points
        x = np.stack([lo, hi], axis=axis + 1).reshape(*[(s * 2 if i == axis else s) for i, s in enumerate(x.shape)])
    return x


def thin(masks: Array) -> Array:
    """Zhang–Suen thinning of a batch: (n, h, w) bool → (n, h, w) bool one-pixel-wide, 8-connected centre lines."""
    img = np.pad(masks, ((0, 0), (1, 1), (1, 1))).astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            p = img
            # The 8 neighbours P2..P9, clockwise from north, each (n, h, w).
            n = [
                p[:, :-2, 1:-1], p[:, :-2, 2:], p[:, 1:-1, 2:], p[:, 2:, 2:],
                p[:, 2:, 1:-1], p[:, 2:, :-2], p[:, 1:-1, :-2], p[:, :-2, :-2],
            ]  # fmt: skip
            count = sum(v.astype(np.int8) for v in n)  # B(P1): inked neighbours
            ring = [*n, n[0]]
            transitions = sum((ring[i] < ring[i + 1]).astype(np.int8) for i in range(8))  # A(P1): 0→1 steps
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                keep_shape = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                keep_shape = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            centre = p[:, 1:-1, 1:-1]  # a view: removals happen in place
            remove = (centre == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & keep_shape
            if remove.any():
                centre[remove] = 0
                changed = True
        if not changed:
            return img[:, 1:-1, 1:-1].astype(bool)


def centre_lines(images: Array, chunk: int = 2000) -> Array:
    """MNIST digits (n, 28, 28) in [0, 1] → their centre lines (n, 56, 56) bool, thinned at twice the resolution."""
    out = np.empty((len(images), 2 * images.shape[1], 2 * images.shape[2]), dtype=bool)
    for start in range(0, len(images), chunk):
        batch = upsample2(images[start : start + chunk])
        peak = batch.max(axis=(1, 2), keepdims=True)
        out[start : start + chunk] = thin(batch > 0.5 * np.maximum(peak, 1e-6))
    return out


def restroke(lines: Array, radii: Array) -> Array:
    """Centre lines (k, 56, 56) bool, pen radii (k,) in 56-px pixels → (k, 28, 28) float32 strokes in [0, 1].

    A radius of r grows the line by r pixels on each side at 56×56, so the stroke is about
    (2r + 1) / 2 pixels wide at 28×28. Odd steps dilate by a 3×3 square, even ones by a cross.
    """
    ink = lines.astype(np.float32)
    radii = np.asarray(radii)
    for step in range(1, int(radii.max(initial=0)) + 1):
        grow = (radii >= step)[:, None, None]
        p = np.pad(ink, ((0, 0), (1, 1), (1, 1)))
        vertical = np.maximum(np.maximum(p[:, :-2, 1:-1], p[:, 2:, 1:-1]), ink)
        horizontal = np.maximum(p[:, 1:-1, :-2], p[:, 1:-1, 2:])
        if step % 2:  # square: the vertical dilation, dilated horizontally
            pv = np.pad(vertical, ((0, 0), (0, 0), (1, 1)))
            grown = np.maximum(np.maximum(pv[:, :, :-2], pv[:, :, 2:]), vertical)
        else:  # cross
            grown = np.maximum(vertical, horizontal)
        ink = np.where(grow, grown, ink)
    k, h, w = ink.shape
    return ink.reshape(k, h // 2, 2, w // 2, 2).mean(axis=(2, 4))
