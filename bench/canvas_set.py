"""The canvas evaluation set: handwritten digits redrawn as a browser canvas would send them.

Every drawing takes a digit from a *source* — the MNIST test set, or other writers' handwriting
(``bench.canvas_sources``: the UCI optical digits at 8×8, USPS at 16×16, UCI pen-based digits as pen
paths) — and a *style* drawn at random:

- size: the digit's longer side is 0.25–0.9 of the canvas's shorter side, anywhere on it;
- pen: the digit is thinned to its centre line and drawn again with a round pen from a hairline
  (1 px) to very bold (a fifth of the digit's height), or keeps its writer's own ink;
- canvas: 280×280, 560×560 (a high-DPI pad) or non-square (400×240, 200×320, 160×120);
- colours: black on white, white on black, coloured ink on tinted paper, black ink on a
  transparent background, or white ink on a transparent background (what the page sends);
- edges: anti-aliased, as canvases draw, or hard.

A drawing depends only on (seed, source, index), never on how many are built, so any subset is
reproducible. Nothing is written to disk: ``drawings()`` yields Pillow images.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from bench.canvas_strokes import centre_line_segments, pen_path, stroke, work_mask

# A stable number per source, for the seeds (bench.canvas_sources has the non-MNIST ones).
SOURCES = {"mnist-test": 0, "uci-digits": 1, "mnist-train": 2, "usps": 3, "pen-digits": 4}
SIZES = {"small": (0.25, 0.45), "medium": (0.45, 0.7), "large": (0.7, 0.9)}  # of the canvas's shorter side
# Pen width as a fraction of the digit's longer side (MNIST's own strokes are about 0.11); hairline is 1 px.
PENS = {
    "hairline": (0.0, 0.0),
    "thin": (0.035, 0.07),
    "medium": (0.07, 0.12),
    "bold": (0.12, 0.16),
    "very bold": (0.16, 0.2),
    "own ink": (0.0, 0.0),
}
CANVASES = [(280, 280), (280, 280), (560, 560), (400, 240), (200, 320), (160, 120)]  # (width, height)
SCAN_SIDE = 280  # scanned(): a source's own digit, enlarged to the page's canvas size
COLOURS = ["black on white", "white on black", "coloured", "black on transparent", "white on transparent"]


@dataclass(frozen=True)
class Style:
    size: str  # a key of SIZES
    pen: str  # a key of PENS
    canvas: tuple[int, int]  # (width, height)
    colours: str  # one of COLOURS
    antialias: bool

    @property
    def canvas_kind(self) -> str:
        width, height = self.canvas
        return f"{width}×{height}" if width == height else "non-square"


@dataclass
class Drawing:
    image: Image.Image  # mode L, RGB or RGBA, of size style.canvas
    label: int
    source: str
    index: int  # position in the source
    style: Style
    pen_width: float  # canvas pixels; 0 for "own ink"


def drawings(digits: np.ndarray, labels: np.ndarray, source: str, seed: int) -> Iterator[Drawing]:
    """digits (n, h, w) grey, ink high, any dtype; labels (n,) → one Drawing per digit, in order."""
    for index, (digit, label) in enumerate(zip(digits, labels)):
        rng = np.random.default_rng([seed, SOURCES[source], index])
        yield draw(digit, int(label), source, index, rng)


def random_style(rng: np.random.Generator) -> Style:
    return Style(
        size=str(rng.choice(list(SIZES))),
        pen=str(rng.choice(list(PENS))),
        canvas=CANVASES[rng.integers(len(CANVASES))],
        colours=str(rng.choice(COLOURS)),
        antialias=bool(rng.random() < 0.8),
    )


def draw(
    digit: np.ndarray, label: int, source: str, index: int, rng: np.random.Generator, style: Style | None = None
) -> Drawing:
    """One digit (h, w) → a Drawing in ``style`` (by default a random one); the rest is drawn from ``rng``."""
    style = style or random_style(rng)
    width, height = style.canvas
    mask = work_mask(digit)  # (mh, mw) bool, longer side WORK_SIDE
    side = rng.uniform(*SIZES[style.size]) * min(width, height)  # the digit's longer side, px
    low, high = PENS[style.pen]
    if style.pen == "hairline":
        pen = 1.0
    elif style.pen == "own ink":
        pen = 0.0
    else:
        pen = max(2.0, rng.uniform(low, high) * side)
    if style.pen == "own ink":
        shape, extent = mask.shape, side
    else:  # the centre line, cropped to itself; with the pen's width it spans `side`
        segments = centre_line_segments(pen_path(mask))
        segments -= segments.reshape(-1, 2).min(axis=0)
        shape = tuple(int(v) + 1 for v in segments.reshape(-1, 2).max(axis=0))
        extent = max(side - pen, 1.0)
    h, w = shape
    box_w, box_h = extent * w / max(h, w), extent * h / max(h, w)
    margin = pen / 2 + 1
    left = rng.uniform(margin, max(margin, width - box_w - margin))
    top = rng.uniform(margin, max(margin, height - box_h - margin))
    box = (left, top, left + box_w, top + box_h)
    if style.pen == "own ink":
        coverage = own_ink(mask, style.canvas, box, style.antialias)
    else:
        coverage = stroke(segments, shape, style.canvas, box, pen, style.antialias)
    return Drawing(paint(coverage, style.colours, rng), label, source, index, style, pen)


def own_ink(mask: np.ndarray, canvas: tuple[int, int], box: tuple[float, ...], antialias: bool) -> np.ndarray:
    """The writer's own ink shape, scaled into ``box``: → (H, W) float32 coverage in [0, 1]."""
    left, top, right, bottom = box
    size = (max(1, round(right - left)), max(1, round(bottom - top)))
    enlarging = size[0] >= mask.shape[1]
    resample = Image.Resampling.BILINEAR if enlarging or not antialias else Image.Resampling.BOX
    scaled = np.asarray(Image.fromarray(mask.astype(np.float32)).resize(size, resample), dtype=np.float32)
    if not antialias:
        scaled = (scaled >= 0.5).astype(np.float32)
    coverage = np.zeros((canvas[1], canvas[0]), dtype=np.float32)
    y, x = round(top), round(left)
    h, w = coverage[y : y + size[1], x : x + size[0]].shape  # clipped at the canvas's edge
    coverage[y : y + h, x : x + w] = scaled[:h, :w]
    return coverage


def paint(coverage: np.ndarray, colours: str, rng: np.random.Generator) -> Image.Image:
    """(H, W) ink coverage in [0, 1] → a Pillow image in the given colour scheme."""
    c = coverage[..., None]  # (H, W, 1)
    if colours == "black on white":
        return Image.fromarray(np.round(255 * (1 - coverage)).astype(np.uint8), "L")
    if colours == "white on black":
        return Image.fromarray(np.round(255 * coverage).astype(np.uint8), "L")
    if colours == "coloured":
        ink, paper = ink_and_paper(rng)
        rgb = paper * (1 - c) + ink * c
        return Image.fromarray(np.round(255 * rgb).astype(np.uint8), "RGB")
    rgba = np.zeros((*coverage.shape, 4), dtype=np.uint8)  # transparent black (0, 0, 0, 0), as a fresh canvas
    rgba[..., 3] = np.round(255 * coverage)
    if colours == "white on transparent":
        rgba[coverage > 0, :3] = 255  # unpremultiplied, as canvas.toDataURL() gives it
    return Image.fromarray(rgba, "RGBA")


def scanned(digit: np.ndarray) -> Image.Image:
    """(h, w) grey digit, ink high → its own pixels with a blank margin, enlarged (bicubic) to a longer side of
    SCAN_SIDE, white on black.

    Not a drawing: what the source itself holds, for comparison with the redrawn versions (the
    redrawing of a coarse digit has to guess its strokes).
    """
    a = np.clip(digit.astype(np.float32) / max(float(digit.max()), 1e-6), 0.0, 1.0)  # a blank digit stays blank
    a = np.pad(a, max(a.shape) // 4)  # the paper around the digit, as on a canvas
    h, w = a.shape
    size = (max(1, round(SCAN_SIDE * w / max(h, w))), max(1, round(SCAN_SIDE * h / max(h, w))))
    image = Image.fromarray(np.round(255 * a).astype(np.uint8), "L")
    return image.resize(size, Image.Resampling.BICUBIC)


def ink_and_paper(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random saturated ink and a tinted paper (light or dark) whose lightness differs by at least 0.35."""
    while True:
        ink = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.5, 1.0), rng.uniform(0.3, 1.0)))
        light = rng.random() < 0.6
        paper = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.3), 0.95 if light else 0.2))
        if abs(float(ink @ [0.299, 0.587, 0.114]) - float(paper @ [0.299, 0.587, 0.114])) >= 0.35:
            return ink, paper
