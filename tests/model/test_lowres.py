"""model.lowres: digits reduced to 8×8 the UCI way, and the centre lines the pen augmentation draws from them."""

from __future__ import annotations

import numpy as np

from model.augment import Augmentation, augment
from model.lowres import LINE_BOX, LINE_SIDE, coarse_lines, rebuild, reduce_to_blocks
from model.strokes import centre_lines, restroke
from tests.model.test_strokes import digit

STILL = Augmentation(rotation=0, scale=0, shear=0, shift=0, elastic_alpha=0, thickness=0, restroke=1.0)


def test_reduce_to_blocks_counts_ink_like_the_uci_digits() -> None:
    bar = np.zeros((28, 28), dtype=np.uint8)
    bar[4:24, 12:17] = 255  # a straight "1", 20 px tall and 5 wide: 8 px of the 32 once scaled, two full blocks
    blank = np.zeros((28, 28), dtype=np.uint8)
    reduced, nothing = reduce_to_blocks(np.stack([bar, blank]))
    assert reduced.shape == (8, 8) and reduced.min() >= 0 and reduced.max() == 16
    assert (reduced.sum(axis=1) > 0).all()  # scaled to fill the 32 px height, as UCI's normalisation did
    assert (reduced.sum(axis=0) > 0).sum() <= 2  # and kept its aspect: a thin bar stays a column or two
    assert not nothing.any()  # a blank digit counts no ink (and does not fail)


def test_a_lower_ink_level_counts_more_of_a_faint_stroke() -> None:
    faint = digit("7", 2) * 0.6 + (digit("7", 4) > 0.5) * 0.4  # a dark core with a paler rim
    light, heavy = reduce_to_blocks(np.stack([faint, faint]), np.array([0.5, 0.25], dtype=np.float32))
    assert heavy.sum() > light.sum()


def test_rebuild_centres_the_shape_with_mnists_size() -> None:
    blocks = np.zeros((8, 8), dtype=np.float32)
    blocks[:, 1:3] = 16  # a bar at the left of the bitmap
    mask = rebuild(blocks)
    ys, xs = np.nonzero(mask)
    assert mask.shape == (LINE_SIDE, LINE_SIDE)
    assert abs(ys.mean() - LINE_SIDE / 2) <= 1 and abs(xs.mean() - LINE_SIDE / 2) <= 1  # moved to the centre
    assert abs((ys.max() - ys.min() + 1) - LINE_BOX) <= 3  # its longer side is MNIST's box (doubled)
    assert not rebuild(np.zeros((8, 8), dtype=np.float32)).any()


def test_coarse_lines_keep_a_big_loop_and_lose_what_8x8_cannot_hold() -> None:
    ring, bar = digit("0", 2), digit("1", 3)
    small_loops = np.zeros((28, 28), dtype=np.float32)  # an "8" of thick strokes round two 2-px holes
    small_loops[4:24, 10:18] = 1.0
    small_loops[8:10, 13:15] = small_loops[17:19, 13:15] = 0.0
    fine = centre_lines(np.stack([ring, bar, small_loops]))
    lines = coarse_lines(np.stack([ring, bar, small_loops]), np.random.default_rng(0))
    assert lines.shape == (3, LINE_SIDE, LINE_SIDE) and lines.dtype == bool
    blocks = lines[:, :-1, :-1] & lines[:, 1:, :-1] & lines[:, :-1, 1:] & lines[:, 1:, 1:]
    assert not blocks.any()  # thinned: one pixel wide
    middle = LINE_SIDE // 2
    assert lines[0, middle, :middle].any() and lines[0, middle, middle:].any()  # the 0 is still a ring
    assert lines[1].sum(axis=1).max() == 1  # the 1 a single line
    # The fine centre line goes round the 8's holes (two strokes across a hole's row); at 8×8 they are gone.
    assert fine[2].sum(axis=1).max() >= 2 and lines[2].sum(axis=1).max() == 1
    again = coarse_lines(np.stack([ring, bar, small_loops]), np.random.default_rng(0))
    np.testing.assert_array_equal(lines, again)  # deterministic for a seed


def test_augment_draws_the_chosen_share_from_the_coarse_lines() -> None:
    images = np.stack([digit("0", 2)] * 32 + [digit("7", 2)] * 32)
    lines, reduced = centre_lines(images), coarse_lines(images, np.random.default_rng(0))
    no_coarse = augment(images, np.random.default_rng(1), STILL, lines)
    ignored = augment(images, np.random.default_rng(1), STILL, lines, coarse_lines=reduced)
    np.testing.assert_array_equal(no_coarse, ignored)  # share 0: the same images, the same random numbers
    all_coarse = Augmentation(**{**STILL.to_dict(), "coarse": 1.0})
    drawn = augment(images, np.random.default_rng(1), all_coarse, lines, coarse_lines=reduced)
    radii = np.random.default_rng(1)
    radii.random(len(images))  # redraw's draws: which images (all of them), then their pens
    np.testing.assert_allclose(drawn, restroke(reduced, radii.integers(1, STILL.pen_radius + 1, len(images))))
    half = Augmentation(**{**STILL.to_dict(), "coarse": 0.5})
    mixed = augment(images, np.random.default_rng(1), half, lines, coarse_lines=reduced)
    from_coarse = np.isclose(mixed, drawn).all(axis=(1, 2)) & ~np.isclose(mixed, no_coarse).all(axis=(1, 2))
    assert 16 < from_coarse.sum() < 48  # about half
