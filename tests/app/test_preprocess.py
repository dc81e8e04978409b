"""app.preprocess on synthetic drawings: every kind of input ends up MNIST-like."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from app import preprocess as pre
from tests.app.helpers import FOUR, SEVEN, centre_of_mass, draw, encode, ink_box

MNIST_CENTRE = 14.0  # MNIST's digits have their centre of mass at row 14, column 14 (tests/app/test_accuracy.py)


def frame_of(image: Image.Image) -> np.ndarray:
    result = pre.preprocess(image)
    assert not result.empty
    assert result.pixels.shape == (784,) and result.pixels.dtype == np.float32
    assert result.pixels.min() >= 0.0 and result.pixels.max() == pytest.approx(1.0)
    return result.pixels


def similar(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two frames (1 = identical up to scale), allowing a shift of one pixel: centring
    rounds the centre of mass to whole pixels, so a tiny difference can move a drawing by one."""
    a, b = a.reshape(28, 28), b.reshape(28, 28)
    shifts = [np.roll(a, (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return max(float(np.corrcoef(s.ravel(), b.ravel())[0, 1]) for s in shifts)


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """A black "7" on white paper, the usual case."""
    return frame_of(draw())


def test_reference_is_mnist_shaped(reference: np.ndarray) -> None:
    height, width = ink_box(reference)
    assert max(height, width) == 20
    row, col = centre_of_mass(reference)
    assert abs(row - MNIST_CENTRE) <= 0.5 and abs(col - MNIST_CENTRE) <= 0.5
    assert (reference == 0).mean() > 0.6  # mostly background, like MNIST


def test_light_ink_on_dark_paper_is_the_same_drawing(reference: np.ndarray) -> None:
    np.testing.assert_allclose(frame_of(draw(ink=255, paper=0)), reference, atol=1e-5)


def test_dark_ink_on_transparent_background(reference: np.ndarray) -> None:
    # What an untouched canvas gives: transparent black (0, 0, 0, 0) with opaque black strokes.
    image = draw(ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA")
    np.testing.assert_allclose(frame_of(image), reference, atol=1e-5)


def test_light_ink_on_transparent_background(reference: np.ndarray) -> None:
    image = draw(ink=(255, 255, 255, 255), paper=(0, 0, 0, 0), mode="RGBA")
    np.testing.assert_allclose(frame_of(image), reference, atol=1e-5)


def test_transparency_through_a_palette(reference: np.ndarray) -> None:
    image = draw(ink=1, paper=0, mode="P")
    image.putpalette([255, 255, 255, 20, 20, 20] + [0] * 762)
    image.info["transparency"] = 0  # palette entry 0 (white) is transparent
    reopened = Image.open(io.BytesIO(encode(image)))
    assert reopened.mode == "P" and "transparency" in reopened.info
    assert similar(frame_of(reopened), reference) > 0.99


@pytest.mark.parametrize(
    ("ink", "paper"),
    [((220, 30, 30), (255, 255, 255)), ((30, 60, 230), (250, 240, 120)), ((255, 200, 0), (20, 20, 60))],
    ids=["red-on-white", "blue-on-yellow", "amber-on-navy"],
)
def test_coloured_ink(ink: tuple[int, int, int], paper: tuple[int, int, int], reference: np.ndarray) -> None:
    assert similar(frame_of(draw(ink=ink, paper=paper, mode="RGB")), reference) > 0.99


def test_faint_strokes_are_stretched_to_full_strength(reference: np.ndarray) -> None:
    faint = frame_of(draw(ink=225, paper=255))  # contrast 30 of 255 grey levels
    assert faint.max() == pytest.approx(1.0)
    assert similar(faint, reference) > 0.97


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (280, 280), 255),
        Image.new("RGBA", (280, 280), (0, 0, 0, 0)),
        Image.new("RGB", (50, 50), (30, 120, 200)),
        Image.new("L", (1, 1), 0),
        draw(ink=250, paper=255),  # 2% contrast: paper texture, not a drawing
    ],
    ids=["white", "transparent", "flat-colour", "1x1", "barely-visible"],
)
def test_no_ink_is_empty(image: Image.Image) -> None:
    result = pre.preprocess(image)
    assert result.empty and not result.pixels.any()


def test_jpeg_noise_is_not_ink() -> None:
    noisy = Image.open(io.BytesIO(encode(draw(), "JPEG", quality=30)))
    clean = frame_of(draw())
    assert similar(frame_of(noisy), clean) > 0.98


@pytest.mark.parametrize("width", [2, 5, 45], ids=["hairline", "thin", "thick"])
def test_stroke_width_ends_in_mnist_range(width: int) -> None:
    frame = frame_of(draw(width=width)).reshape(28, 28)
    assert pre.THIN - 0.3 <= pre.stroke_width(frame) <= pre.THICK + 0.3
    assert ink_box(frame)[0] == 20


def test_hairline_is_dilated_and_fat_strokes_eroded() -> None:
    hairline = pre.ink_map(draw(width=2))
    fine = pre.resize_longer_side(pre.crop_to_ink(hairline / hairline.max()), pre.FINE, Image.Resampling.BILINEAR)
    assert pre.stroke_width(fine) / 4 < pre.THIN  # thinner than any MNIST digit before normalising …
    assert pre.stroke_width(pre.normalise_strokes(fine)) / 4 > pre.THIN  # … and within MNIST's range after
    fat = pre.ink_map(draw(width=60))
    fine = pre.resize_longer_side(pre.crop_to_ink(fat / fat.max()), pre.FINE, Image.Resampling.BILINEAR)
    assert pre.stroke_width(fine) / 4 > pre.THICK
    assert pre.stroke_width(pre.normalise_strokes(fine)) / 4 < pre.stroke_width(fine) / 4 - 1


@pytest.mark.parametrize(
    ("size", "box"),
    [((280, 280), (120, 120, 160, 160)), ((2000, 2000), (200, 300, 1800, 1900)), ((4096, 300), (3800, 20, 4080, 290))],
    ids=["tiny-drawing", "large-canvas", "off-centre-wide-canvas"],
)
def test_any_size_and_position_gives_the_same_digit(
    size: tuple[int, int], box: tuple[int, int, int, int], reference: np.ndarray
) -> None:
    scale = (box[2] - box[0]) / 200  # keep the stroke in proportion to the drawing
    frame = frame_of(draw(size=size, box=box, width=max(2, round(18 * scale))))
    assert similar(frame, reference) > 0.9  # a 40-pixel drawing is jagged; a "4" scores 0.2
    row, col = centre_of_mass(frame)
    assert abs(row - MNIST_CENTRE) <= 0.5 and abs(col - MNIST_CENTRE) <= 0.5


@pytest.mark.parametrize("corner", [(0, 0, 90, 90), (190, 190, 280, 280), (0, 190, 90, 280)])
def test_off_centre_drawings_are_centred(corner: tuple[int, int, int, int]) -> None:
    frame = frame_of(draw(strokes=FOUR, box=corner, width=8))
    row, col = centre_of_mass(frame)
    assert abs(row - MNIST_CENTRE) <= 0.5 and abs(col - MNIST_CENTRE) <= 0.5
    assert max(ink_box(frame)) == 20


def test_aspect_ratio_is_kept() -> None:
    # A drawing twice as wide as tall: a 20-pixel-wide box about 10 pixels high.
    frame = frame_of(draw(strokes=[[(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]], box=(40, 90, 240, 190), width=10))
    height, width = ink_box(frame, threshold=0.05)
    assert width == 20 and 9 <= height <= 12


def test_tall_thin_one_keeps_its_aspect() -> None:
    frame = frame_of(draw(strokes=[[(50, 0), (50, 100)]], box=(100, 30, 180, 250), width=14))
    height, width = ink_box(frame, threshold=0.05)
    assert height == 20 and width <= 4


@pytest.mark.parametrize(
    "convert",
    [
        lambda im: im.convert("1"),
        lambda im: im.convert("P"),
        lambda im: im.convert("LA"),
        lambda im: im.convert("CMYK"),
        lambda im: Image.fromarray(np.asarray(im).astype(np.uint16) * 257),  # 16-bit grey, mode I;16
        lambda im: im.convert("I"),
    ],
    ids=["1", "P", "LA", "CMYK", "I;16", "I"],
)
def test_every_mode_reads_the_same(convert: Callable[[Image.Image], Image.Image], reference: np.ndarray) -> None:
    image = convert(draw())
    assert similar(frame_of(image), reference) > 0.97


def test_sixteen_bit_is_not_clipped() -> None:
    # Values in 0..65535: reading them through 8-bit "L" would clip everything to white.
    image = Image.fromarray((255 - np.asarray(draw())).astype(np.uint16) * 257)
    assert image.mode == "I;16"
    assert not pre.preprocess(image).empty


def test_big_images_are_shrunk_before_the_float_work() -> None:
    big = draw(size=(4000, 4000), box=(500, 500, 3500, 3500), width=270)
    colour, alpha = pre._colour_and_alpha(big)
    assert max(colour.shape[:2]) <= pre.WORK_SIDE and alpha is None
    assert similar(frame_of(big), frame_of(draw(width=18))) > 0.98


def invisible_colours() -> Image.Image:
    """White ink on transparent paper that holds other colours where it is fully transparent, even at its edge."""
    image = draw(ink=(255, 255, 255, 255), paper=(0, 0, 0, 0), mode="RGBA")
    pixels = np.asarray(image).copy()
    pixels[:40, :, :3] = (255, 0, 0)  # red, alpha 0: invisible, and touching the top edge
    pixels[200:, 200:, :3] = 90
    return Image.fromarray(pixels, "RGBA")


CROP_CASES = {
    "black on white": draw(),
    "white on transparent": draw(ink=(255, 255, 255, 255), paper=(0, 0, 0, 0), mode="RGBA"),
    "coloured on tinted": draw(ink=(200, 30, 60), paper=(240, 235, 200), mode="RGB"),
    "transparent ink on opaque paper": draw(ink=(0, 0, 0, 0), paper=(255, 255, 255, 255), mode="RGBA"),
    "half-transparent paper": draw(ink=(0, 0, 0, 255), paper=(255, 255, 255, 128), mode="RGBA"),
    "touching the edge": draw(strokes=[[(0, 30), (100, 30)], [(50, 30), (50, 90)]], box=(0, 0, 280, 280)),
    "small on a big canvas": draw(size=(900, 700), box=(600, 500, 660, 560), width=6),
    "invisible colours on transparent paper": invisible_colours(),
}


@pytest.mark.parametrize("image", CROP_CASES.values(), ids=CROP_CASES.keys())
def test_cropping_to_the_drawing_changes_nothing(image: Image.Image, monkeypatch: pytest.MonkeyPatch) -> None:
    cropped = pre.preprocess(image).pixels
    monkeypatch.setattr(pre, "_crop_to_content", lambda whole: whole)
    assert np.array_equal(cropped, pre.preprocess(image).pixels)


def test_only_the_drawing_is_converted_to_floats() -> None:
    colour, _ = pre._colour_and_alpha(CROP_CASES["small on a big canvas"])
    assert max(colour.shape[:2]) < 100  # the 60-px drawing, its pen and a one-pixel frame, not 900×700
    colour, _ = pre._colour_and_alpha(CROP_CASES["touching the edge"])
    assert colour.shape[:2] == (280, 280)  # the border's median needs the whole border
    # Invisible pixels do not count as content, even at the edge, and the colour check sees one grey plane.
    colour, _ = pre._colour_and_alpha(CROP_CASES["invisible colours on transparent paper"])
    assert colour.shape[:2] == pre._colour_and_alpha(CROP_CASES["white on transparent"])[0].shape[:2]
    assert colour.shape[2] == 1 and max(colour.shape[:2]) < 280


def test_from_pixels() -> None:
    values = [0.0] * 784
    assert pre.from_pixels(values).empty
    values[400] = 0.5
    prepared = pre.from_pixels(values)
    assert not prepared.empty and prepared.pixels[400] == 0.5 and prepared.pixels.shape == (784,)


def test_seven_and_four_differ(reference: np.ndarray) -> None:
    assert similar(frame_of(draw(strokes=FOUR)), reference) < 0.5  # the checks above are not vacuous


@pytest.mark.parametrize("strokes", [SEVEN, FOUR], ids=["seven", "four"])
@pytest.mark.parametrize("width", [1, 2], ids=["1px", "2px"])
def test_hairline_becomes_full_strength_strokes(strokes: list, width: int) -> None:
    """A hairline shrunk to 28×28 is faint; MNIST's strokes are not: it must come out like a normal pen's."""
    hairline = frame_of(draw(strokes, width=width))
    normal = frame_of(draw(strokes, width=18))
    assert 0.85 <= hairline.sum() / normal.sum() <= 1.2  # as much ink
    assert (hairline > 0.9).sum() >= 0.25 * (hairline > 0.1).sum()  # most of it at full strength, not grey
