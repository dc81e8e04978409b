"""Data augmentation, vectorised over a batch of images.

Each call draws fresh random distortions for every image of a ``(n, 28, 28)``
float batch and returns a new ``(n, 28, 28)`` batch:

- redrawing with a round pen (``model.strokes``): the digit's centre line, computed once per
  training image, drawn again with strokes of one width, as a canvas pen draws;
- styles MNIST lacks (``model.styles``): 1s given a flag, and sometimes a foot, and 7s a bar
  across the stem, as much of the world writes them (needs the labels);
- stroke thickening / thinning: a blend towards a grey-scale dilation or erosion;
- a random affine map (rotation, scale, shear, shift) and an elastic
  distortion (Simard et al. 2003), combined into *one* sampling grid so each
  image is resampled once, with bilinear interpolation.

There is no per-image Python loop: the per-image parameters are arrays of
length n and the resampling is one gather over the whole batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from model.strokes import restroke
from model.styles import add_crossbars, add_flags

Array = np.ndarray
SIDE = 28
CENTRE = (SIDE - 1) / 2


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the random distortions; every image draws uniformly within them."""

    rotation: float = 12.0  # degrees, ±
    scale: float = 0.12  # relative, ±
    shear: float = 0.15  # x shifts by shear·y, ±
    shift: float = 2.5  # pixels, ±
    elastic_alpha: float = 1.2  # pixels: RMS displacement of the elastic field
    elastic_sigma: float = 4.0  # pixels: smoothness of the elastic field
    thickness: float = 0.5  # probability of changing stroke width
    restroke: float = 0.0  # probability of redrawing the centre line with a round pen (needs centre lines)
    pen_radius: int = 3  # largest pen radius, in pixels of the 56×56 centre lines (1 … pen_radius)
    flags: float = 0.0  # probability that a 1 gets a flag (and, half of those, a foot); needs labels
    crossbars: float = 0.0  # probability that a 7 gets a bar across its stem; needs labels

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def augment(
    images: Array,
    rng: np.random.Generator,
    aug: Augmentation,
    lines: Array | None = None,
    labels: Array | None = None,
) -> Array:
    """Distort a batch: images (n, 28, 28) float32 in [0, 1] → (n, 28, 28) float32.

    lines: the images' centre lines (n, 56, 56) bool (``model.strokes.centre_lines``), needed
    when ``aug.restroke`` > 0; labels: the images' digits (n,), needed when ``aug.flags`` or ``aug.crossbars`` > 0.
    """
    if aug.restroke > 0 and lines is not None:
        images = redraw(images, lines, rng, aug.restroke, aug.pen_radius)
    if aug.flags > 0 and labels is not None:
        images = add_flags(images, labels, rng, aug.flags)
    if aug.crossbars > 0 and labels is not None:
        images = add_crossbars(images, labels, rng, aug.crossbars)
    images = change_thickness(images, rng, aug.thickness)
    return resample(images, sampling_grid(len(images), rng, aug))


def redraw(images: Array, lines: Array, rng: np.random.Generator, probability: float, largest: int) -> Array:
    """Replace each chosen image by its centre line drawn with a pen of radius 1 … largest (56-px pixels)."""
    chosen = np.flatnonzero(rng.random(len(images)) < probability)
    if not len(chosen):
        return images
    images = images.copy()
    images[chosen] = restroke(lines[chosen], rng.integers(1, largest + 1, len(chosen)))
    return images


def change_thickness(images: Array, rng: np.random.Generator, probability: float) -> Array:
    """Blend each chosen image towards its dilation (thicker) or erosion (thinner).

    t ∈ [-0.5, 1] per image: t > 0 thickens by t of a one-pixel dilation, t < 0
    thins by |t| of an erosion (at most half, or thin digits would vanish).
    """
    n = len(images)
    t = rng.uniform(-0.5, 1.0, n).astype(np.float32) * (rng.random(n) < probability)
    chosen = np.flatnonzero(t)
    if not len(chosen):
        return images
    picked = images[chosen]  # only these change: the others would add 0 · (dilated − image)
    padded = np.pad(picked, ((0, 0), (1, 1), (1, 1)))
    # The four neighbours plus the pixel itself (a "+"-shaped structuring element), folded in place
    # into one maximum and one minimum (stacking five shifted copies first was three times slower).
    neighbours = [padded[:, :-2, 1:-1], padded[:, 2:, 1:-1], padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]]
    dilated, eroded = picked.copy(), picked.copy()
    for shifted in neighbours:
        np.maximum(dilated, shifted, out=dilated)
        np.minimum(eroded, shifted, out=eroded)
    thicker = np.maximum(t[chosen], 0)[:, None, None]
    thinner = np.maximum(-t[chosen], 0)[:, None, None]
    images = images.copy()
    images[chosen] = picked + thicker * (dilated - picked) + thinner * (eroded - picked)
    return images


def sampling_grid(n: int, rng: np.random.Generator, aug: Augmentation) -> Array:
    """Where each output pixel reads from: (2, n, 28, 28) source rows, then source columns.

    The output pixel at p (relative to the centre) reads the source at
    M p + c - shift + d(p), where M = rotation·shear·scale and d is the elastic field.
    Rows and columns are two contiguous planes, so every step below runs over contiguous memory.
    """
    angle = np.deg2rad(rng.uniform(-aug.rotation, aug.rotation, n))
    scale = 1.0 / rng.uniform(1 - aug.scale, 1 + aug.scale, n)  # inverse map: read from a scaled source
    shear = rng.uniform(-aug.shear, aug.shear, n)
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    shift_y, shift_x = rng.uniform(-aug.shift, aug.shift, (2, n))

    def per_image(v: Array) -> Array:  # (n,) → (n, 1, 1), to broadcast against the (28, 28) grid
        return v.astype(np.float32)[:, None, None]

    # M = scale · [[cos, -sin], [sin + shear·cos, cos - shear·sin]] acts on (row, col) = (y, x):
    # a rotation, then a shear x += shear·y.
    rows, cols = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) - CENTRE
    coords = np.empty((2, n, SIDE, SIDE), dtype=np.float32)
    terms = ((cos, -sin, CENTRE - shift_y), (sin + shear * cos, cos - shear * sin, CENTRE - shift_x))
    for plane, (a, b, c) in zip(coords, terms):
        np.multiply(per_image(a), rows, out=plane)  # plane = a·rows + b·cols + c, in place
        plane += per_image(b) * cols
        plane += per_image(c)
    if aug.elastic_alpha > 0:
        coords += elastic_field(n, rng, aug.elastic_alpha, aug.elastic_sigma)
    return coords


def elastic_field(n: int, rng: np.random.Generator, alpha: float, sigma: float) -> Array:
    """Smooth random displacements (2, n, 28, 28), rows then columns: uniform noise blurred by a Gaussian.

    The blur is separable, so it is two matrix products with a (28, 28) Gaussian
    matrix G: field ← G · noise · Gᵀ, batched over images and both axes.
    """
    idx = np.arange(SIDE)
    g = np.exp(-((idx[:, None] - idx[None, :]) ** 2) / (2 * sigma**2))
    g /= g.sum(axis=1, keepdims=True)
    g = g.astype(np.float32)
    noise = rng.random((n * 2 * SIDE, SIDE), dtype=np.float32)  # drawn as float32: half the time of float64
    noise *= 2
    noise -= 1  # uniform in [-1, 1)
    # Blur along columns, then (after swapping the two image axes) along rows: one big product each.
    field = (noise @ g.T).reshape(n * 2, SIDE, SIDE).transpose(0, 2, 1).reshape(-1, SIDE) @ g.T
    field = field.reshape(n, 2, SIDE, SIDE)  # transposed images; the field is random, so it does not matter
    # Normalise so alpha is the field's typical (RMS) displacement whatever sigma is.
    field *= alpha / (np.sqrt(np.mean(field**2, axis=(2, 3), keepdims=True)) + 1e-12)
    return field.transpose(1, 0, 2, 3)


def resample(images: Array, coords: Array) -> Array:
    """Bilinear sampling: out[k, i, j] = images[k] at (coords[0, k, i, j], coords[1, k, i, j]); outside is 0."""
    n = len(images)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1))).reshape(n, -1)  # a zero border to read outside from
    width = SIDE + 2
    # +1 for the border; clip so that far-outside points read border zeros.
    y = np.clip(coords[0] + 1, 0, width - 1.001)
    x = np.clip(coords[1] + 1, 0, width - 1.001)
    y0, x0 = np.floor(y), np.floor(x)
    fy, fx = y - y0, x - x0  # float32: subtracting the int32 indices instead made the whole blend float64
    y0, x0 = y0.astype(np.int32), x0.astype(np.int32)
    # Index into the flattened batch: image k starts at k·width².
    base = (y0 * width + x0).reshape(n, -1) + (np.arange(n, dtype=np.int32) * width * width)[:, None]
    base = base.astype(np.intp)  # take() would convert the indices on each of the four calls
    flat = padded.ravel()

    def at(offset: int) -> Array:
        return np.take(flat, base + offset).reshape(n, SIDE, SIDE)

    top = at(0) * (1 - fx) + at(1) * fx
    bottom = at(width) * (1 - fx) + at(width + 1) * fx
    return top * (1 - fy) + bottom * fy
