"""bench.canvas_set and bench.canvas_strokes on synthetic digits: deterministic, and the styles really differ."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("scipy", reason="the canvas set needs the eval extra: pip install -e '.[eval]'")

from scipy.ndimage import gaussian_filter, label  # noqa: E402

from app import preprocess  # noqa: E402
from app.preprocess import stroke_width  # noqa: E402
from bench import canvas_set as cs  # noqa: E402
from bench.canvas_strokes import centre_line_segments, dip_depth, thin, work_mask  # noqa: E402


def ring(width: int = 3) -> np.ndarray:
    """A (28, 28) uint8 "0": an ellipse drawn with a pen ``width`` px wide, ink high, MNIST's 20-px box."""
    image = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(image).ellipse((8, 4, 20, 24), outline=255, width=width)
    return np.asarray(image)


def ink_map(image: Image.Image) -> np.ndarray:
    """The service's ink map of the whole canvas, so that positions on it can be measured."""
    return preprocess.ink_map(image, crop=False)


def style(**changes: object) -> cs.Style:
    base = {"size": "large", "pen": "medium", "canvas": (280, 280), "colours": "black on white", "antialias": True}
    return cs.Style(**{**base, **changes})  # type: ignore[arg-type]


def drawn(s: cs.Style, seed: int = 0, digit: np.ndarray | None = None) -> cs.Drawing:
    return cs.draw(ring() if digit is None else digit, 0, "mnist-test", 0, np.random.default_rng(seed), s)


def ink_box(ink: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.5), np.flatnonzero(ink.max(axis=0) > 0.5)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_thinning_leaves_a_one_pixel_closed_loop() -> None:
    mask = work_mask(ring(width=4))  # strokes about 16 px thick at the work resolution
    skeleton = thin(mask)
    assert skeleton.sum() < mask.sum() / 8
    assert (skeleton & ~mask).sum() == 0  # the centre line lies inside the ink
    # One pixel wide: no 2×2 block is fully inked.
    blocks = skeleton[:-1, :-1] & skeleton[1:, :-1] & skeleton[:-1, 1:] & skeleton[1:, 1:]
    assert not blocks.any()
    # Still a loop: the centre of the ring is enclosed (every ray from it crosses the line).
    cy, cx = np.array(mask.shape) // 2
    assert skeleton[cy, :cx].any() and skeleton[cy, cx:].any()
    assert skeleton[:cy, cx].any() and skeleton[cy:, cx].any()
    segments = centre_line_segments(skeleton)
    lengths = np.hypot(*(segments[:, 1] - segments[:, 0]).T)
    assert len(segments) >= skeleton.sum() - 1 and lengths.max() <= np.sqrt(2) + 1e-9  # neighbours only


def test_a_faint_stroke_is_kept_and_a_loop_stays_open() -> None:
    """Ink is cut at half its *local* peak: a stroke written lightly stays; the paper inside a loop does not fill."""
    five = np.zeros((28, 28), dtype=np.float32)
    five[6:8, 10:20] = 0.3  # a faint top bar, as on a scanned 5 …
    five[6:16, 10:12] = 1.0  # … over a firm stem
    image = Image.fromarray(np.round(255 * five).astype(np.uint8))
    ImageDraw.Draw(image).ellipse((9, 13, 20, 24), outline=255, width=2)  # and a firm closed belly
    digit = np.asarray(image)
    local, global_cut = work_mask(digit), work_mask(digit, local_radius=0)
    rows, cols = local.shape
    bar = (slice(0, rows // 8), slice(cols * 2 // 3, cols))  # the bar's far end, away from the stem
    assert local[bar].any() and not global_cut[bar].any()
    assert label(~local)[1] == label(~global_cut)[1] == 2  # the outside and the belly's hole


def test_dip_depth_is_how_far_ink_encloses_a_pixel_below_its_rim() -> None:
    grey = np.zeros((9, 9), dtype=np.float32)
    grey[2:7, 2:7] = 1.0  # a square of ink …
    grey[3:6, 3:6] = 0.6  # … whose middle is lighter: a half-filled loop
    depth = dip_depth(grey)
    np.testing.assert_allclose(depth[3:6, 3:6], 0.4)  # below the rim of 1.0 around it
    assert not depth[grey == 1.0].any() and not depth[0].any()  # the rim and the paper outside: no dip
    grey[3, 2] = 0.2  # a notch through the rim, lower than the middle: its water runs out
    np.testing.assert_allclose(dip_depth(grey)[3:6, 3:6], 0.0)


def test_a_blurred_16_pixel_digit_keeps_a_small_loop() -> None:
    """A 16×16 digit blurred as USPS's are: sharpened and with its dips reopened, a small loop stays a loop."""
    image = Image.new("L", (16, 16), 0)
    pen = ImageDraw.Draw(image)
    pen.ellipse((5, 3, 10, 7), outline=255, width=2)  # a small upper loop
    pen.ellipse((4, 7, 11, 14), outline=255, width=2)  # the lower one: an "8"
    eight = gaussian_filter(np.asarray(image, dtype=np.float32) / 255, 0.75)
    assert label(~work_mask(eight))[1] == 3  # the outside and both loops
    assert label(~work_mask(eight, sharpen=0, hole_depth=0))[1] == 2  # before: the small loop filled in
    # Sharpening is for such low-resolution scans only: a 28×28 digit's mask is the same without it.
    np.testing.assert_array_equal(work_mask(ring()), work_mask(ring(), sharpen=0))


def test_same_seed_same_drawing_and_subsets_agree() -> None:
    digits = np.stack([ring(2), ring(3), ring(4)])
    labels = np.zeros(3, dtype=np.int64)
    first = list(cs.drawings(digits, labels, "mnist-test", seed=7))
    again = list(cs.drawings(digits[:2], labels[:2], "mnist-test", seed=7))  # a drawing never depends on n
    for a, b in zip(first, again):
        assert a.style == b.style and np.array_equal(np.asarray(a.image), np.asarray(b.image))
    other = list(cs.drawings(digits, labels, "mnist-test", seed=8))
    assert [d.style for d in other] != [d.style for d in first]


def test_random_styles_cover_every_option() -> None:
    styles = [cs.random_style(np.random.default_rng(i)) for i in range(400)]
    assert {s.pen for s in styles} == set(cs.PENS)
    assert {s.colours for s in styles} == set(cs.COLOURS)
    assert {s.size for s in styles} == set(cs.SIZES)
    assert {s.canvas_kind for s in styles} == {"280×280", "560×560", "non-square"}
    assert {s.antialias for s in styles} == {True, False}


def test_pen_widths_really_differ() -> None:
    """Measured stroke width relative to the digit's height grows from hairline to very bold."""
    relative = {}
    for pen in ("hairline", "thin", "medium", "bold", "very bold"):
        d = drawn(style(pen=pen, size="large"))
        ink = ink_map(d.image)
        height = ink_box(ink)[0]
        relative[pen] = stroke_width(ink) / height
        if pen != "hairline":
            low, high = cs.PENS[pen]
            assert low * 0.8 <= relative[pen] <= high * 1.25, (pen, relative[pen])
    widths = list(relative.values())
    assert widths == sorted(widths) and widths[-1] > 8 * widths[0]
    assert stroke_width(ink_map(drawn(style(pen="hairline")).image)) < 1.6  # about one pixel


@pytest.mark.parametrize("size", list(cs.SIZES))
def test_size_and_position(size: str) -> None:
    low, high = cs.SIZES[size]
    for seed in range(4):
        d = drawn(style(size=size, canvas=(400, 240), pen="thin"), seed)
        ink = ink_map(d.image)
        assert ink.shape == (240, 400)
        fraction = max(ink_box(ink)) / 240
        assert low - 0.03 <= fraction <= high + 0.08  # plus the pen's width
    corners = {tuple(np.argwhere(ink_map(drawn(style(size="small"), s).image) > 0.5).min(axis=0)) for s in range(6)}
    assert len(corners) == 6  # anywhere on the canvas


def test_colour_schemes_are_what_they_claim() -> None:
    checks = {
        "black on white": ("L", lambda a: a[0, 0] == 255 and a.min() < 10),
        "white on black": ("L", lambda a: a[0, 0] == 0 and a.max() > 245),
        "coloured": ("RGB", lambda a: len({tuple(p) for p in a.reshape(-1, 3)[::97]}) > 2),
        "black on transparent": ("RGBA", lambda a: a[0, 0, 3] == 0 and a[..., :3].max() == 0 and a[..., 3].max() > 245),
        "white on transparent": ("RGBA", lambda a: a[0, 0, 3] == 0 and a[a[..., 3] > 0, :3].min() == 255),
    }
    for colours, (mode, check) in checks.items():
        image = drawn(style(colours=colours)).image
        assert image.mode == mode and check(np.asarray(image)), colours


def test_hard_edges_have_no_grey_and_antialiased_ones_do() -> None:
    hard = np.asarray(drawn(style(antialias=False)).image)
    soft = np.asarray(drawn(style(antialias=True)).image)
    assert set(np.unique(hard)) == {0, 255}
    assert ((soft > 0) & (soft < 255)).sum() > 100


def test_own_ink_keeps_the_writers_stroke_width() -> None:
    thin_ring, bold_ring = (ink_map(drawn(style(pen="own ink"), digit=ring(w)).image) for w in (2, 5))
    assert stroke_width(bold_ring) > 1.8 * stroke_width(thin_ring)


def test_a_filled_loop_stays_filled_with_any_pen() -> None:
    """A "9" whose loop the writer filled in: thinning alone would leave a line; the redraw keeps a blot."""
    image = Image.new("L", (28, 28), 0)
    pen = ImageDraw.Draw(image)
    pen.ellipse((9, 4, 19, 13), fill=255)  # the filled loop
    pen.line((18, 9, 16, 24), fill=255, width=2)  # the tail
    nine = np.asarray(image)
    for pen_name in ("hairline", "medium"):
        ink = ink_map(drawn(style(pen=pen_name, size="large"), digit=nine).image)
        rows, cols = np.nonzero(ink > 0.5)
        top = ink[rows.min() : rows.min() + (rows.max() - rows.min()) // 3, cols.min() : cols.max() + 1]
        assert (top > 0.5).mean() > 0.4, pen_name  # the top third is mostly ink, not a thin outline


@pytest.mark.parametrize("shape", [(8, 8), (16, 16), (28, 28), (16, 8)])
def test_a_scan_is_the_digit_itself_enlarged(shape: tuple[int, int]) -> None:
    """scanned(): the source's own grey pixels, white on black, longer side SCAN_SIDE, a blank margin around."""
    digit = np.zeros(shape, dtype=np.float32)
    h, w = shape
    digit[h // 4 : 3 * h // 4, w // 2] = 16.0  # a "1" in the UCI digits' scale of 0..16
    scan = cs.scanned(digit)
    assert scan.mode == "L" and max(scan.size) == cs.SCAN_SIDE
    margin = max(shape) // 4
    assert scan.size[0] * (h + 2 * margin) == pytest.approx(scan.size[1] * (w + 2 * margin), rel=0.05)  # aspect kept
    pixels = np.asarray(scan)
    assert pixels.max() == 255 and pixels[0].max() == pixels[-1].max() == 0  # full-strength ink, blank paper
    assert preprocess.preprocess(scan).pixels.reshape(28, 28)[6:22, 14].min() > 0.5  # read back: a vertical bar
