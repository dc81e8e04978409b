"""model.coarse: digits reduced to 8×8 blocks as the UCI optical digits were made, and their centre lines."""

from __future__ import annotations

import numpy as np

from bench.canvas_tune import coarse as reference_reduction
from model.augment import Augmentation, augment
from model.coarse import coarse_centre_lines, reduce_to_blocks
from model.strokes import centre_lines
from tests.model.test_strokes import digit


def test_blocks_fit_the_longer_side_to_the_bitmap_and_count_the_ink() -> None:
    ring, bar, blank = digit("0", 3), digit("1", 3), np.zeros((28, 28), np.float32)
    blocks = reduce_to_blocks(np.stack([ring, bar, blank]))
    assert blocks.shape == (3, 8, 8) and blocks.dtype == np.float32 and blocks.min() >= 0 and blocks.max() <= 1
    rows_inked = (blocks > 0).any(axis=2)
    assert rows_inked[0].all() and rows_inked[1].all()  # both are taller than wide: they span all 8 rows
    # The ring (12 × 20 px) is scaled by 32 / 20 as well: 19 px wide, centred, it covers blocks 1 to 6.
    assert blocks[0, 3:5, 1].min() > 0.25 and blocks[0, 3:5, 6].min() > 0.25 and not blocks[0][:, [0, 7]].any()
    assert blocks[0, 3:5, 3:5].max() < 0.2  # its hole stays empty
    assert not blocks[1][:, [0, 1, 6, 7]].any()  # the bar stays a narrow column in the middle
    assert (blocks[1, :, 3:5].sum(axis=1) >= 1).all()  # 3 px at 28, 5 px at 32: over a block wide in every row
    assert not blocks[2].any()  # a blank digit: no ink, no error


def test_blocks_match_the_tuning_sets_reduction_made_with_an_image_library() -> None:
    # bench.canvas_tune.coarse makes the tuning set's 8×8 digits one by one with Pillow's bilinear resize.
    digits = np.stack([digit(kind, width) for kind in "017" for width in (2, 3, 5)])
    mine = reduce_to_blocks(digits) * 16
    theirs = reference_reduction(digits * 255)
    assert np.abs(mine - theirs).mean() < 0.25  # of 0..16 per block
    assert np.abs(mine.sum(axis=(1, 2)) - theirs.sum(axis=(1, 2))).max() <= 0.05 * theirs.sum(axis=(1, 2)).max()


def test_coarse_centre_lines_are_one_pixel_lines_in_mnists_box() -> None:
    lines = coarse_centre_lines(np.stack([digit("0", 3), digit("1", 3), digit("7", 3)]))
    assert lines.shape == (3, 56, 56) and lines.dtype == bool
    assert not lines[:, :8].any() and not lines[:, 48:].any() and not lines[:, :, :8].any()  # in the 40×40 box
    blocks = lines[:, :-1, :-1] & lines[:, 1:, :-1] & lines[:, :-1, 1:] & lines[:, 1:, 1:]
    assert not blocks.any()
    ring, bar = lines[0], lines[1]
    assert ring[28, :28].any() and ring[28, 28:].any() and ring[:28, 28].any() and ring[28:, 28].any()  # closed
    assert bar.any(axis=1).sum() >= 25 and np.ptp(np.nonzero(bar)[1]) <= 4  # tall (thinning shortens ends), straight


def test_augment_redraws_a_share_of_the_digits_from_their_coarse_lines() -> None:
    images = np.stack([digit("7", 2)] * 200)
    lines, coarse = centre_lines(images), coarse_centre_lines(images)
    still = Augmentation(rotation=0, scale=0, shear=0, shift=0, elastic_alpha=0, thickness=0, restroke=1.0)
    fine_only = augment(images, np.random.default_rng(0), still, lines)
    # Without a share of coarse digits, giving their lines changes nothing: the random draws are the same.
    np.testing.assert_array_equal(augment(images, np.random.default_rng(0), still, lines, coarse_lines=coarse),
                                  fine_only)
    half = Augmentation(**{**still.to_dict(), "coarse": 0.5})
    mixed = augment(images, np.random.default_rng(0), half, lines, coarse_lines=coarse)
    changed = np.abs(mixed - fine_only).max(axis=(1, 2)) > 0.5
    assert 0.35 < changed.mean() < 0.65  # about half redrawn from the coarse line, with the same pens
    every = Augmentation(**{**still.to_dict(), "coarse": 1.0})  # every one: as if the coarse lines were its own
    np.testing.assert_array_equal(augment(images, np.random.default_rng(0), every, lines, coarse_lines=coarse),
                                  augment(images, np.random.default_rng(0), still, coarse))
