"""Re-stroking a handwritten digit: its centre line, drawn again with a pen of any width.

A scanned digit (MNIST's 28×28, or the UCI digits' 8×8) carries its writer's stroke width.
To see what the network makes of the same digit drawn with a hairline or a marker, the
digit is thinned to a one-pixel centre line (Zhang & Suen 1984), the centre line is scaled
to where it goes on the canvas, and every canvas pixel within half the pen width of it is
inked — with a one-pixel soft edge when anti-aliased, as a browser canvas draws.

Filled-in loops stay filled (``pen_path``). Thinning is the training augmentation's
(``model.strokes``); the distance to the centre line is SciPy's exact Euclidean distance transform.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy.interpolate import RectBivariateSpline
from scipy.ndimage import distance_transform_edt, gaussian_filter, grey_erosion, maximum_filter

from model.strokes import thin as thin_batch

WORK_SIDE = 112  # the digit is thinned at this resolution (longer side): 4× MNIST's 28 px frame


# Where the writer's ink was, from an upsampled grey digit: above half the *local* peak for a scanned digit;
# lower for 8×8 block counts (the UCI digits), whose thin strokes cover under half of many blocks. 0.3 redraws
# the 8×8 reductions of held-out MNIST training digits most faithfully (``python -m bench.canvas_fidelity
# --block-level L``, 1,000 digits: loops changed / strays 20.0 / 14.7% at 0.25, 17.7 / 13.9% at 0.3, 18.3 / 13.5%
# at 0.35, 18.4 / 14.5% at 0.4, 25.7 / 20.5% at 0.5).
INK_LEVEL, BLOCK_INK_LEVEL = 0.5, 0.3
# The local peak is the brightest ink in a square 2 × LOCAL_RADIUS pixels of the source digit wide, so a faint
# stroke (a light pen, a scan) is cut at half its own strength, not half the digit's, and stays; FLOOR (of the
# digit's peak) keeps paper noise out. A cut at half the digit's peak dropped such strokes: on held-out training
# digits with uneven ink, a stroke more or less than written in 20% of 28×28 and 25% of 16×16 redrawings, against
# 0.3% and 1.4% with the local peak (``python -m bench.canvas_fidelity``; with ``--radius`` it tries others: 1.5
# has fewer loops changed and strays, summed over its rows, than 2.5 and 3.5). A radius of 0 cuts at half the
# digit's peak.
LOCAL_RADIUS, FLOOR = 1.5, 0.15
# A 16×16 grey digit (USPS) was blurred when it was scanned and reduced: its grey edges cover 45% of the frame,
# against 21% for an MNIST digit box-averaged to 16 px, as much as that digit blurred by a Gaussian of 0.75 px
# (42–47% for 0.7–0.8). The blur half fills small loops and joins nearby strokes, so such a digit is sharpened
# first (an unsharp mask: the digit plus SHARPEN times its difference from its blur by SHARPEN_SIGMA px). And
# wherever the ink dips by over HOLE_DEPTH of the local peak below every rim around it (a loop the blur or the
# upsampling half filled), the dip is paper, whatever its level. Chosen with ``python -m bench.canvas_fidelity``
# (1,000 digits, loops differ / strays): blurred 16×16 digits 13.6 / 7.5% → 9.7 / 3.8%; 28×28 ones moved half a
# pixel 8.3 / 3.6% → 6.7 / 3.2%, uneven ink 4.5 / 0.3% → 3.7 / 0.4%; 8×8 counts 17.7 / 13.9% → 17.2 / 12.3% — but
# unblurred 16×16 ones 6.6 / 1.6% → 9.0 / 1.2%: sharpening suits blurred scans only. (On 400 digits, depths of 0.05
# to 0.25 were close, and cutting 16×16 digits at 0.6–0.7 of the local peak instead of sharpening them was worse.)
BLURRED_SIDE, SHARPEN, SHARPEN_SIGMA, HOLE_DEPTH = 16, 1.0, 0.75, 0.1


def work_mask(
    digit: np.ndarray,
    side: int = WORK_SIDE,
    local_radius: float = LOCAL_RADIUS,
    block_level: float = BLOCK_INK_LEVEL,
    sharpen: float = SHARPEN,
    hole_depth: float = HOLE_DEPTH,
) -> np.ndarray:
    """(h, w) grey digit, ink high → (h', w') bool ink mask, max(h', w') = side, cropped to the ink.

    Bicubic upsampling before thresholding gives smooth outlines, so the centre line is smooth too. An 8×8
    digit's pixels are amounts of ink per block, not samples, so it is upsampled as areas (``area_upsample``).
    A grey digit of up to BLURRED_SIDE pixels is sharpened by ``sharpen`` first; with the local cut, dips deeper
    than ``hole_depth`` of the local peak are paper (0 turns either off).
    """
    blocks = max(digit.shape) <= 8
    a = digit.astype(np.float32)
    a = a / a.max()
    if sharpen > 0 and not blocks and max(digit.shape) <= BLURRED_SIDE:
        a = np.clip(a + sharpen * (a - gaussian_filter(a, SHARPEN_SIGMA)), 0.0, None)
        a /= a.max()
    a = np.pad(ink_box(a, 0.1), 1)  # a blank margin for the thinning
    h, w = a.shape
    scale = side / max(h, w)
    size = (max(3, round(w * scale)), max(3, round(h * scale)))
    if blocks:
        big = area_upsample(a, size)
        big /= big.max()
    else:
        big = np.asarray(Image.fromarray(a).resize(size, Image.Resampling.BICUBIC), dtype=np.float32)
    level = block_level if blocks else INK_LEVEL
    if local_radius <= 0:
        return big > level
    window = max(3, round(2 * local_radius * scale) | 1)  # odd, in work pixels
    peak = maximum_filter(big, size=window)
    mask = (big > level * peak) & (big > FLOOR)
    if hole_depth > 0:
        mask &= ~(dip_depth(big) > hole_depth * peak)
    return mask


def dip_depth(grey: np.ndarray) -> np.ndarray:
    """(h, w) grey → (h, w): how far each pixel lies below the lowest rim it would have to cross to reach the
    image's edge (0 where a path down to the edge exists): the depth of the dips that ink encloses.

    The dips filled: grey-level reconstruction by erosion, from the edge inwards (Soille, *Morphological Image
    Analysis*, 2003, §6.3.7): a surface starting at the maximum everywhere but the edge is eroded, never below
    the grey, until it settles.
    """
    filled = np.full_like(grey, grey.max())
    filled[0], filled[-1], filled[:, 0], filled[:, -1] = grey[0], grey[-1], grey[:, 0], grey[:, -1]
    while True:
        lowered = np.maximum(grey_erosion(filled, size=3), grey)
        if np.array_equal(lowered, filled):
            return filled - grey
        filled = lowered


def ink_box(a: np.ndarray, level: float) -> np.ndarray:
    """(h, w) grey digit → (h', w'): the smallest box holding every pixel above ``level``."""
    rows, cols = np.flatnonzero((a > level).any(axis=1)), np.flatnonzero((a > level).any(axis=0))
    return a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def area_upsample(amounts: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) ink per block → (H, W) float32 ink density, size = (W, H), whose sum over each block is its amount.

    Bicubic interpolation treats each value as the ink at the block's centre, so a thin stroke crossing a
    block's corner (a low count) is lost between two samples. Instead a quadratic spline runs through the
    running sums of the amounts (the ink above and left of every block corner) and is differentiated
    again on the fine grid: a smooth density that puts each block's ink inside that block.
    """
    h, w = amounts.shape
    sums = np.zeros((h + 1, w + 1))
    sums[1:, 1:] = amounts.cumsum(axis=0).cumsum(axis=1)
    spline = RectBivariateSpline(np.arange(h + 1), np.arange(w + 1), sums, kx=2, ky=2, s=0)
    width, height = size
    fine = spline(np.linspace(0, h, height + 1), np.linspace(0, w, width + 1))  # (H + 1, W + 1) running sums
    return np.maximum(np.diff(np.diff(fine, axis=0), axis=1), 0.0).astype(np.float32)  # negative lobes: no ink


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang–Suen thinning (model.strokes.thin): (h, w) bool → (h, w) bool one-pixel-wide centre line."""
    return thin_batch(mask[None])[0]


def pen_path(mask: np.ndarray, blob: float = 2.0) -> np.ndarray:
    """(h, w) bool ink → (h, w) bool where a pen's centre passes: the centre line, plus filled-in parts.

    Thinning turns a loop the writer filled in (an ink blot) into a line, which changes the digit;
    a person redrawing it would fill it again. So wherever the centre line runs through ink more
    than ``blob`` times as thick as the writer's typical stroke, the pen's centre also covers a disc
    there, as wide as that ink less a typical stroke (the medial-axis reconstruction of the blot).
    """
    skeleton = thin(mask)
    inside = distance_transform_edt(mask)  # (h, w) distance to the background
    if not skeleton.any():
        return skeleton
    half = float(np.median(inside[skeleton]))  # the writer's typical half stroke width
    ys, xs = np.nonzero(skeleton & (inside > blob * half))
    if not len(ys):
        return skeleton
    radius = inside[ys, xs] - half  # (k,)
    rows, cols = np.indices(mask.shape)
    path = skeleton.copy()
    for y, x, r in zip(ys, xs, radius):  # a few dozen points at most
        path |= (rows - y) ** 2 + (cols - x) ** 2 <= r * r
    return path


def centre_line_segments(skeleton: np.ndarray) -> np.ndarray:
    """(h, w) bool centre line → (k, 2, 2) segments ((y0, x0), (y1, x1)) joining 8-neighbours, pixel units.

    An isolated pixel (a dot) becomes a zero-length segment, so it is still drawn.
    """
    ys, xs = np.nonzero(skeleton)
    pairs = []
    padded = np.pad(skeleton, 1)
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):  # each neighbour pair once
        hit = padded[1 + ys + dy, 1 + xs + dx]
        pairs.append(np.stack([np.stack([ys[hit], xs[hit]], 1), np.stack([ys[hit] + dy, xs[hit] + dx], 1)], 1))
    lonely = np.ones(len(ys), dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                lonely &= ~padded[1 + ys + dy, 1 + xs + dx]
    dots = np.stack([ys[lonely], xs[lonely]], 1)
    pairs.append(np.stack([dots, dots], 1))
    return np.concatenate(pairs).astype(np.float64)


def stroke(
    segments: np.ndarray,
    work_shape: tuple[int, int],
    canvas: tuple[int, int],
    box: tuple[float, float, float, float],
    width: float,
    antialias: bool = True,
) -> np.ndarray:
    """Draw the centre line with a round pen: → (H, W) float32 ink coverage in [0, 1] of the canvas.

    segments: (k, 2, 2) in pixels of the work mask of shape work_shape = (h, w); canvas = (W, H);
    box = (left, top, right, bottom) where the work mask's pixel centres are spread on the canvas;
    width: pen width in canvas pixels (≥ 1).
    """
    h, w = work_shape
    left, top, right, bottom = box
    sy, sx = (bottom - top) / max(h - 1, 1), (right - left) / max(w - 1, 1)
    centre_line = Image.new("1", canvas, 0)
    pen = ImageDraw.Draw(centre_line)
    for (y0, x0), (y1, x1) in segments:
        pen.line([(left + x0 * sx, top + y0 * sy), (left + x1 * sx, top + y1 * sy)], fill=1, width=1)
    distance = distance_transform_edt(~np.asarray(centre_line, dtype=bool))  # (H, W) px to the centre line
    radius = width / 2.0
    if antialias:  # coverage of a pixel by a pen edge: a ramp one pixel wide
        return np.clip(radius + 0.5 - distance, 0.0, 1.0).astype(np.float32)
    return (distance <= max(radius, 0.5)).astype(np.float32)
