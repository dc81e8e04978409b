"""model.styles: the flag (and foot) drawn on 1s, and only on 1s; the bar across a 7's stem."""

from __future__ import annotations

import numpy as np

from model.augment import Augmentation, augment
from model.styles import add_crossbars, add_flags


def plain_ones(n: int) -> np.ndarray:
    """(n, 28, 28) float32: a straight vertical "1", 3 px wide, rows 4–23, columns 13–15."""
    images = np.zeros((n, 28, 28), dtype=np.float32)
    images[:, 4:24, 13:16] = 1.0
    return images


def test_flags_go_down_and_left_from_the_top() -> None:
    ones = plain_ones(50)
    flagged = add_flags(ones, np.ones(50, dtype=int), np.random.default_rng(0), 1.0)
    added = flagged - ones  # (50, 28, 28) ≥ 0: ink is only ever added
    assert added.min() >= 0 and flagged.max() <= 1
    upper_left = added[:, 4:16, :12].sum(axis=(1, 2))
    upper_right = added[:, 4:16, 17:].sum(axis=(1, 2))
    assert (upper_left > 3).all() and (upper_right == 0).all()  # every 1 has a flag, on its left
    feet = added[:, 22:26, 17:].sum(axis=(1, 2)) > 1  # ink right of the stem at its bottom: a foot
    assert 0.3 < feet.mean() < 0.7  # about half of them
    assert (added[:, :2].sum(axis=(1, 2)) == 0).all()  # nothing above the top but the round cap's edge


def test_only_ones_and_only_with_the_probability() -> None:
    images = plain_ones(400)
    labels = np.array([1, 7] * 200)
    changed = (add_flags(images, labels, np.random.default_rng(1), 0.3) != images).any(axis=(1, 2))
    assert not changed[labels == 7].any()
    assert 0.2 < changed[labels == 1].mean() < 0.4
    assert add_flags(images, labels, np.random.default_rng(1), 0.0) is images


def test_augment_draws_flags_when_given_labels() -> None:
    images = plain_ones(20)
    still = Augmentation(rotation=0, scale=0, shear=0, shift=0, elastic_alpha=0, thickness=0)
    flagged = Augmentation(**{**still.to_dict(), "flags": 1.0})
    labels = np.ones(20, dtype=int)
    np.testing.assert_allclose(augment(images, np.random.default_rng(0), still, labels=labels), images, atol=1e-6)
    with_flags = augment(images, np.random.default_rng(0), flagged, labels=labels)
    assert (with_flags.sum(axis=(1, 2)) > images.sum(axis=(1, 2)) + 3).all()
    np.testing.assert_array_equal(with_flags, augment(images, np.random.default_rng(0), flagged, labels=labels))
    np.testing.assert_allclose(augment(images, np.random.default_rng(0), flagged), images, atol=1e-6)  # no labels


def test_half_the_flags_join_the_stem_below_its_top() -> None:
    ones = plain_ones(200)  # stems on rows 4–23: 19 px high
    added = add_flags(ones, np.ones(200, dtype=int), np.random.default_rng(2), 1.0) - ones
    left_of_stem = added[:, :, :12] > 0.5  # (200, 28, 12): the flag, away from the stem's own edge
    first_row = left_of_stem.any(axis=2).argmax(axis=1)  # (200,) the flag's highest inked row
    joined_lower = first_row >= 4 + 3  # more than 0.1 of the height below the top (and its pen's reach)
    assert 0.3 < joined_lower.mean() < 0.7
    # A flag from lower down may run flatter: the flattest span fewer rows than any flag from the top.
    rows_spanned = left_of_stem.any(axis=2).sum(axis=1)
    assert rows_spanned[joined_lower].min() < rows_spanned[~joined_lower].min()
    assert (added[:, :16, 17:].sum(axis=(1, 2)) == 0).all()  # never a bar to the right, as a 7's (the foot is lower)


def test_a_flag_joining_at_a_gap_in_the_stem_starts_at_the_stem() -> None:
    ones = plain_ones(200)
    ones[:, 6:12] = 0.0  # a broken stroke: no ink where a lower flag would join
    added = add_flags(ones, np.ones(200, dtype=int), np.random.default_rng(2), 1.0) - ones
    touching_the_stem = added[:, :20, 10:13].sum(axis=(1, 2)) > 1  # the flag's end beside the stem (not the foot)
    assert touching_the_stem.all()  # not a flag drawn from the image's left edge


def plain_sevens(n: int) -> np.ndarray:
    """(n, 28, 28) float32: a "7" 3 px wide — a top bar on rows 4–6, columns 8–20, and a vertical stem at 18–20."""
    images = np.zeros((n, 28, 28), dtype=np.float32)
    images[:, 4:7, 8:21] = 1.0
    images[:, 4:24, 18:21] = 1.0
    return images


def test_crossbars_cross_the_stem_halfway_down() -> None:
    sevens = plain_sevens(100)
    labels = np.full(100, 7)
    added = add_crossbars(sevens, labels, np.random.default_rng(0), 1.0) - sevens
    assert added.min() >= 0 and (added.sum(axis=(1, 2)) > 5).all()  # every 7 gets a bar, ink only added
    inked_rows = (added > 0.5).any(axis=2)  # (100, 28)
    assert not inked_rows[:, :10].any() and not inked_rows[:, 18:].any()  # 40–60% down the 19-px stem, ± the pen
    assert (added[:, :, :17].sum(axis=(1, 2)) > 1).all() and (added[:, :, 22:].sum(axis=(1, 2)) > 1).all()  # both sides
    others = add_crossbars(sevens, np.full(100, 1), np.random.default_rng(0), 1.0)
    assert others is sevens  # only 7s


def test_a_seven_without_a_stem_at_the_bar_gets_none() -> None:
    broken = plain_sevens(50)
    broken[:, 9:20] = 0.0  # nothing where the bar would cross
    np.testing.assert_array_equal(add_crossbars(broken, np.full(50, 7), np.random.default_rng(0), 1.0), broken)


def test_augment_draws_crossbars_when_asked() -> None:
    images = plain_sevens(40)
    labels = np.full(40, 7)
    still = Augmentation(rotation=0, scale=0, shear=0, shift=0, elastic_alpha=0, thickness=0)
    crossed = Augmentation(**{**still.to_dict(), "crossbars": 0.5})
    out = augment(images, np.random.default_rng(0), crossed, labels=labels)
    changed = (np.abs(out - images) > 1e-6).any(axis=(1, 2))
    assert 0.2 < changed.mean() < 0.8
    np.testing.assert_allclose(augment(images, np.random.default_rng(0), still, labels=labels), images, atol=1e-6)
