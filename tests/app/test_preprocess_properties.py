"""Property-based tests of the preprocessing (hypothesis): any pixels in any mode → a valid 784-vector or "empty".

The images are built from arbitrary raw bytes with ``Image.frombytes``, so every bit pattern a mode can hold
is fair game (for "I" and "F" that includes negative, huge, NaN and infinite values), at any size from 1×1
to long thin strips, with random palettes and transparency. The checks are the contract of
``preprocess()``: a float32 (784,) vector, finite, in [0, 1]; empty exactly when it is all zeros, and
otherwise with some ink; and no exception, except the service's own InputError for a colour mode that
none of the accepted formats (PNG, JPEG, WebP, BMP, GIF) can produce.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from app.errors import InputError
from app.images import open_image
from app.preprocess import FRAME, MIN_CONTRAST, Prepared, from_pixels, mnist_frame, preprocess
from tests.app.helpers import encode

# Bytes per pixel of each mode (mode "1" packs 8 pixels per byte, rows padded to whole bytes).
DECODABLE = {"1": 0, "L": 1, "LA": 2, "P": 1, "PA": 2, "RGB": 3, "RGBA": 4, "CMYK": 4, "I": 4, "I;16": 2}
# Modes Pillow has but no accepted file format decodes to: a clean InputError is allowed for these.
EXOTIC = {"La": 4 // 2, "RGBa": 4, "RGBX": 4, "YCbCr": 3, "LAB": 3, "HSV": 3, "F": 4, "I;16B": 2}
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)

sizes = st.one_of(
    st.tuples(st.integers(1, 48), st.integers(1, 48)),  # small drawings
    st.tuples(st.integers(1, 3), st.integers(100, 2500)),  # thin strips, both ways round
    st.tuples(st.integers(100, 2500), st.integers(1, 3)),
)


def row_bytes(mode: str, width: int) -> int:
    return (width + 7) // 8 if mode == "1" else width * {**DECODABLE, **EXOTIC}[mode]


@st.composite
def images(draw: st.DrawFn, modes: dict[str, int]) -> Image.Image:
    mode = draw(st.sampled_from(sorted(modes)))
    width, height = draw(sizes)
    size = row_bytes(mode, width) * height
    # Mostly structured data (a few byte values, so large areas of one colour and real "ink"), sometimes noise.
    palette_of_bytes = draw(st.lists(st.integers(0, 255), min_size=1, max_size=4))
    raw = draw(
        st.one_of(
            hnp.arrays(np.uint8, size, elements=st.sampled_from(palette_of_bytes)).map(bytes),
            st.binary(min_size=size, max_size=size),
        )
    )
    image = Image.frombytes(mode, (width, height), raw)
    if mode == "F":  # 32-bit float: arbitrary bytes include NaN, which test_nan_pixels covers on its own
        image = Image.fromarray(np.nan_to_num(np.asarray(image), nan=0.0))
    if mode in ("P", "PA"):
        image.putpalette(draw(st.binary(min_size=768, max_size=768)))
        if draw(st.booleans()):
            image.info["transparency"] = draw(st.integers(0, 255))
    elif mode in ("L", "RGB") and draw(st.booleans()):
        image.info["transparency"] = draw(st.integers(0, 255)) if mode == "L" else (0, 0, 0)
    return image


def check(prepared: Prepared) -> None:
    event("empty" if prepared.empty else "ink")  # --hypothesis-show-statistics: both outcomes must occur
    pixels = prepared.pixels
    assert pixels.shape == (FRAME * FRAME,) and pixels.dtype == np.float32
    assert np.isfinite(pixels).all()
    assert pixels.min() >= 0.0 and pixels.max() <= 1.0
    if prepared.empty:
        assert not pixels.any()
    else:
        assert pixels.max() > 0.0


@PROPERTY_SETTINGS
@given(image=images(DECODABLE))
def test_any_decodable_image_gives_a_valid_vector_or_empty(image: Image.Image) -> None:
    check(preprocess(image))


@PROPERTY_SETTINGS
@given(image=images(EXOTIC))
def test_other_modes_give_a_valid_vector_or_a_clean_error(image: Image.Image) -> None:
    try:
        prepared = preprocess(image)
    except InputError as err:
        assert image.mode in err.detail
        return
    check(prepared)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(image=images({mode: n for mode, n in DECODABLE.items() if mode not in ("PA", "CMYK", "I")}))
def test_through_a_png_file(image: Image.Image) -> None:
    """The same drawings saved as PNG and read back as the service reads uploads."""
    check(preprocess(open_image(encode(image, "PNG"))))


@PROPERTY_SETTINGS
@given(
    ink=hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 64), st.integers(1, 64)),
        elements=st.floats(0.0, 1.0, width=32),
    )
)
def test_any_ink_map_gives_a_frame_or_none(ink: np.ndarray) -> None:
    frame = mnist_frame(ink.copy())
    if frame is None:
        return
    assert frame.shape == (FRAME, FRAME) and frame.dtype == np.float32
    assert np.isfinite(frame).all() and frame.min() >= 0.0 and frame.max() <= 1.0 and frame.max() > 0.0


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(array=hnp.arrays(np.float64, 784, elements=st.floats(0.0, 1.0)))
def test_any_valid_pixel_list(array: np.ndarray) -> None:
    values = array.tolist()
    prepared = from_pixels(values)  # already MNIST-like: kept as sent, "empty" when it has no real ink
    assert prepared.pixels.shape == (784,) and prepared.pixels.dtype == np.float32
    assert prepared.pixels.tolist() == pytest.approx(values, abs=1e-7)
    assert prepared.empty == (max(values) < MIN_CONTRAST)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_count_as_background(bad: float) -> None:
    values = np.zeros((28, 28), dtype=np.float32)
    values[10:18, 12:15] = 200.0
    values[0, 0] = bad
    prepared = preprocess(Image.fromarray(values))
    assert not prepared.empty  # the stroke is still found ...
    assert np.isfinite(prepared.pixels).all()  # ... and nothing non-finite reaches the network
    assert prepared.pixels.min() >= 0.0 and prepared.pixels.max() == pytest.approx(1.0)


@pytest.mark.parametrize("mode", sorted(DECODABLE))
def test_every_mode_is_generated(mode: str) -> None:
    """The strategy really builds each mode (a typo in the table would silently shrink the search)."""
    image = Image.frombytes(mode, (3, 2), bytes(row_bytes(mode, 3) * 2))
    assert image.mode == mode
