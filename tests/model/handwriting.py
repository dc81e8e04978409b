"""A person's distinctive handwriting, drawn synthetically: sevens with a crossbar.

MNIST has few crossed sevens, and a network trained on it reads this glyph as a 3 or an 8; it is the kind
of drawing the feedback loop exists for. Each call draws fresh variations of the same glyph, as one person
writes it slightly differently every time: rotation, scale, slant, position, pen width and wobble.
"""

from __future__ import annotations

import numpy as np

# The glyph in the unit square (x right, y down): the top bar and the long diagonal, then the crossbar.
CROSSED_SEVEN = [[(0.2, 0.12), (0.8, 0.12), (0.45, 0.9)], [(0.3, 0.5), (0.75, 0.5)]]


def crossed_sevens(n: int, rng: np.random.Generator) -> np.ndarray:
    """n variations of the crossed seven, (n, 784) float32 in [0, 1], ink = 1, in MNIST's ~20-pixel box."""
    return np.stack([render(CROSSED_SEVEN, rng) for _ in range(n)]).reshape(n, 784)


def render(strokes: list[list[tuple[float, float]]], rng: np.random.Generator) -> np.ndarray:
    """One randomly varied drawing of polylines in the unit square: (28, 28) float32, anti-aliased edges."""
    angle, scale, slant = np.deg2rad(rng.uniform(-10, 10)), 1 + rng.uniform(-0.1, 0.1), rng.uniform(-0.15, 0.15)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    transform = scale * rotation @ np.array([[1, slant], [0, 1]])
    shift, pen = rng.uniform(-1, 1, 2), rng.uniform(1.0, 1.8)
    ys, xs = np.mgrid[0:28, 0:28].astype(np.float32) + 0.5  # pixel centres
    image = np.zeros((28, 28), dtype=np.float32)
    for stroke in strokes:
        points = np.array(stroke) + rng.normal(0, 0.02, (len(stroke), 2))  # the hand's wobble
        points = (points - 0.5) @ transform.T * 20 + 14 + shift
        for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
            distance = np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy))  # to the nearest point of the segment
            image = np.maximum(image, np.clip(pen + 0.5 - distance, 0, 1))
    return image
