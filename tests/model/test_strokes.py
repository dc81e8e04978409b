"""model.strokes and the pen augmentation: centre lines are one pixel wide, pens set the stroke width."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from model.augment import Augmentation, augment
from model.strokes import centre_lines, restroke, thin, upsample2


def digit(kind: str, width: int = 3) -> np.ndarray:
    """A (28, 28) float32 synthetic digit in [0, 1]: "0" (a ring), "1" (a bar) or "7"."""
    image = Image.new("L", (28, 28), 0)
    pen = ImageDraw.Draw(image)
    if kind == "0":
        pen.ellipse((8, 4, 20, 24), outline=255, width=width)
    elif kind == "1":
        pen.line((14, 4, 14, 24), fill=255, width=width)
    else:
        pen.line((7, 5, 21, 5, 12, 24), fill=255, width=width)
    return np.asarray(image, dtype=np.float32) / 255


def width_of(images: np.ndarray) -> np.ndarray:
    """Mean stroke width (n,) of (n, h, w) strokes: 2 × ink / edge length (total variation)."""
    p = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    gy, gx = np.diff(p, axis=1)[:, :, :-1], np.diff(p, axis=2)[:, :-1, :]
    return 2 * images.sum(axis=(1, 2)) / np.hypot(gx, gy).sum(axis=(1, 2))


def test_upsample2_is_bilinear_and_keeps_mass() -> None:
    x = np.zeros((1, 4, 4), dtype=np.float32)
    x[0, 1:3, 1:3] = 1.0
    up = upsample2(x)
    assert up.shape == (1, 8, 8)
    assert up.sum() == np.float32(4 * x.sum())  # each pixel spreads its value over four
    np.testing.assert_allclose(up[0, 3, 3], 1.0)  # inside the square
    np.testing.assert_allclose(up[0, 2, 3], 0.75)  # a quarter pixel from its edge
    np.testing.assert_allclose(up[0, 1, 3], 0.25)


def test_thinning_makes_one_pixel_lines_and_keeps_loops() -> None:
    batch = np.stack([digit("0", 4), digit("1", 5), digit("7", 3)]) > 0.5
    lines = thin(batch)
    assert lines.shape == batch.shape and not (lines & ~batch).any()  # inside the ink
    blocks = lines[:, :-1, :-1] & lines[:, 1:, :-1] & lines[:, :-1, 1:] & lines[:, 1:, 1:]
    assert not blocks.any()  # one pixel wide: no 2×2 block
    bar = lines[1]
    assert bar.any(axis=1).sum() >= 15 and bar.sum(axis=1).max() == 1  # the "1" is a vertical line
    ring = lines[0]
    assert ring[14, :14].any() and ring[14, 14:].any() and ring[:14, 14].any() and ring[14:, 14].any()  # closed


def test_pen_radius_sets_the_stroke_width() -> None:
    lines = centre_lines(np.stack([digit(k) for k in "017"]))
    assert lines.shape == (3, 56, 56)
    widths = [width_of(restroke(lines, np.full(3, r))) for r in (1, 2, 3, 4)]
    for thinner, thicker in zip(widths, widths[1:]):
        assert (thicker > thinner + 0.5).all()
    # Radius r at 56×56 draws strokes about (2r + 1) / 2 pixels wide at 28×28.
    np.testing.assert_allclose(widths[1], 2.5, atol=0.6)
    strokes = restroke(lines, np.array([1, 2, 3]))  # a radius per image
    assert strokes.shape == (3, 28, 28) and strokes.min() >= 0 and strokes.max() == 1
    np.testing.assert_allclose(width_of(strokes), [widths[0][0], widths[1][1], widths[2][2]], rtol=1e-6)


def test_the_same_digit_drawn_thin_or_bold_has_the_same_centre_line() -> None:
    thin_one, bold_one = centre_lines(np.stack([digit("7", 2), digit("7", 5)]))
    # Both centre lines lie within a pixel (at 56×56) of each other.
    grown = restroke(np.stack([thin_one]), np.array([2]))[0] > 0
    assert (upsample2(grown[None].astype(np.float32))[0] > 0)[bold_one].mean() > 0.95


def test_augment_redraws_with_a_pen_only_when_asked() -> None:
    images = np.stack([digit("0", 2)] * 64)
    lines = centre_lines(images)
    still = Augmentation(rotation=0, scale=0, shear=0, shift=0, elastic_alpha=0, thickness=0)
    pen = Augmentation(**{**still.to_dict(), "restroke": 1.0, "pen_radius": 4})
    unchanged = augment(images, np.random.default_rng(0), still, lines)
    np.testing.assert_allclose(unchanged, images, atol=1e-6)
    redrawn = augment(images, np.random.default_rng(0), pen, lines)
    widths = width_of(redrawn)
    assert widths.max() - widths.min() > 1.5  # radii 1 … 4 drawn at random
    again = augment(images, np.random.default_rng(0), pen, lines)
    np.testing.assert_array_equal(redrawn, again)  # deterministic for a seed
    np.testing.assert_allclose(augment(images, np.random.default_rng(0), pen), images, atol=1e-6)  # no lines given
