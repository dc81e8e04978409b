"""model.augment: the sampling grid, the elastic field, stroke thickness and bilinear resampling."""

from __future__ import annotations

import numpy as np

from model.augment import Augmentation, augment, change_thickness, elastic_field, resample, sampling_grid
from tests.model.test_strokes import digit

STILL = Augmentation(rotation=0, scale=0, shear=0, shift=0, elastic_alpha=0, thickness=0)


def test_resampling_on_the_identity_grid_changes_nothing_and_outside_is_blank() -> None:
    images = np.stack([digit("0"), digit("7")])
    grid = sampling_grid(2, np.random.default_rng(0), STILL)
    rows, cols = np.mgrid[0:28, 0:28]
    np.testing.assert_allclose(grid[0], np.broadcast_to(rows, (2, 28, 28)), atol=1e-5)
    np.testing.assert_allclose(grid[1], np.broadcast_to(cols, (2, 28, 28)), atol=1e-5)
    np.testing.assert_allclose(resample(images, grid), images, atol=1e-5)
    moved = resample(images, grid + np.array([0.0, 3.0], dtype=np.float32)[:, None, None, None])  # read 3 px right
    np.testing.assert_allclose(moved[:, :, :25], images[:, :, 3:], atol=1e-5)  # the digit moves 3 px left
    assert not moved[:, :, 25:].any()  # what came from outside the image is blank
    halfway = resample(images, grid + np.array([0.0, 0.5], dtype=np.float32)[:, None, None, None])
    np.testing.assert_allclose(halfway[:, :, :27], (images[:, :, :27] + images[:, :, 1:]) / 2, atol=1e-5)  # bilinear


def test_the_grid_keeps_to_its_ranges() -> None:
    shifted = Augmentation(**{**STILL.to_dict(), "shift": 2.0})
    grid = sampling_grid(500, np.random.default_rng(1), shifted)
    offsets = grid - np.stack(np.mgrid[0:28, 0:28]).astype(np.float32)[:, None]  # (2, 500, 28, 28)
    assert np.ptp(offsets, axis=(2, 3)).max() < 1e-4  # a shift moves every pixel alike
    assert np.abs(offsets).max() <= 2.0 + 1e-5 and np.abs(offsets).max() > 1.9
    rotated = Augmentation(**{**STILL.to_dict(), "rotation": 10.0})
    grid = sampling_grid(200, np.random.default_rng(2), rotated)
    centre = 13.5
    radius = np.hypot(grid[0] - centre, grid[1] - centre)  # a rotation keeps distances from the centre
    unrotated = np.hypot(*(np.mgrid[0:28, 0:28] - centre))
    np.testing.assert_allclose(radius, np.broadcast_to(unrotated, radius.shape), atol=1e-4)


def test_the_elastic_field_is_smooth_centred_and_as_large_as_asked() -> None:
    field = elastic_field(300, np.random.default_rng(3), alpha=1.5, sigma=4.0)
    assert field.shape == (2, 300, 28, 28) and field.dtype == np.float32
    rms = np.sqrt(np.mean(field**2, axis=(2, 3)))  # (2, 300): each image's displacement along each axis
    np.testing.assert_allclose(rms, 1.5, rtol=1e-4)
    assert abs(field.mean()) < 0.1  # no drift: the noise is centred on 0
    step = np.abs(np.diff(field, axis=3)).mean()
    assert step < 0.2 * np.abs(field).mean()  # neighbours move nearly alike: a smooth field, not noise


def test_thickness_changes_only_the_chosen_digits() -> None:
    images = np.stack([digit("7", 3)] * 200)
    out = change_thickness(images, np.random.default_rng(4), 0.5)
    changed = (out != images).any(axis=(1, 2))
    assert 0.3 < changed.mean() < 0.7
    ink_change = out.sum(axis=(1, 2)) - images.sum(axis=(1, 2))
    assert (ink_change[changed] != 0).all() and (ink_change > 0).any() and (ink_change < 0).any()  # thicker, thinner
    assert out.min() >= 0 and out.max() <= 1
    assert change_thickness(images, np.random.default_rng(4), 0.0) is images


def test_augment_is_deterministic_for_a_seed_and_stays_in_range() -> None:
    images = np.stack([digit(k) for k in "017"] * 20)
    first = augment(images, np.random.default_rng(5), Augmentation())
    np.testing.assert_array_equal(first, augment(images, np.random.default_rng(5), Augmentation()))
    assert first.shape == images.shape and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 1 + 1e-6
    assert not np.allclose(first, images)
