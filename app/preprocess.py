"""Any drawing → the 28×28 image an MNIST network expects (MNIST's own recipe, made robust).

The steps, each a function below:

1. ``ink_map``: the image → an (H, W) map of ink in [0, 1], background 0, whatever the mode
   (L, RGB, RGBA, LA, P, I;16, CMYK …) and polarity. Transparent pixels are composited over a
   colour that contrasts with the ink (white under dark ink, black under light ink), the
   background colour is the median of the border pixels, and ink is each pixel's colour distance
   from it — so dark-on-light, light-on-dark and coloured ink are all treated alike.
2. ``mnist_frame``: stretch the ink to peak 1 (faint strokes become full strength), drop weak
   noise, crop to the ink's bounding box, bring the stroke width into MNIST's range, scale the
   longer side to 20 px keeping the aspect ratio (anti-aliased), and place it in a 28×28 frame
   with its centre of mass at MNIST's centre.

Everything is vectorised NumPy or Pillow; the only Python loop runs over the offsets of a small
disc (stroke-width normalisation), never over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops

from app.errors import InputError

FRAME = 28  # MNIST images are 28×28 …
BOX = 20  # … with the digit's longer side scaled to 20 px
CENTRE = 14.0  # where MNIST puts the centre of mass (row and column; measured mean 13.99, 14.00)
WORK_SIDE = 1024  # larger images are box-averaged down to this first, to bound memory and time
MIN_CONTRAST = 0.05  # weakest ink (colour distance from the background, 0..1) that counts as a drawing
INK_THRESHOLD = 0.15  # after stretching the ink to peak 1, weaker pixels are noise (JPEG ringing, paper)
FINE = 4 * BOX  # resolution (longer side) at which stroke widths are normalised
# Stroke width in pixels of the 20-px box: MNIST's 1st-99th percentile is about 1.4-4.1 (median 2.2).
# Strokes thinner than THIN are dilated to THIN_TARGET, thicker than THICK eroded to THICK_TARGET.
THIN, THIN_TARGET = 1.4, 2.2
THICK, THICK_TARGET = 4.2, 3.4
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601, as Pillow's convert("L")


@dataclass
class Prepared:
    """What the network is given for one drawing."""

    pixels: np.ndarray  # (784,) float32 in [0, 1], row-major 28×28, ink high
    empty: bool  # no ink found; ``pixels`` is then all zeros


def preprocess(image: Image.Image) -> Prepared:
    """A decoded Pillow image → the (784,) vector the network sees, or an empty result."""
    frame = mnist_frame(ink_map(image))
    if frame is None:
        return Prepared(np.zeros(FRAME * FRAME, dtype=np.float32), empty=True)
    return Prepared(frame.reshape(-1), empty=False)


def from_pixels(values: list[float]) -> Prepared:
    """An already preprocessed vector (784 values in [0, 1], validated by the schema) → Prepared."""
    pixels = np.asarray(values, dtype=np.float32).reshape(FRAME * FRAME)
    return Prepared(pixels, empty=bool(pixels.max() < MIN_CONTRAST))


# ---- 1. image → ink map ---------------------------------------------------------------------


def ink_map(image: Image.Image, crop: bool = True) -> np.ndarray:
    """Pillow image of any mode → (H, W) float32 ink in [0, 1] (before stretching), 0 = background.

    With ``crop``, (H, W) may be a box of the image holding all of its ink (see ``_crop_to_content``);
    without, it is the whole image (shrunk to WORK_SIDE).
    """
    colour, alpha = _colour_and_alpha(image, crop)  # (H, W, C) with C = 1 or 3, and (H, W) or None if opaque
    # The arithmetic runs plane by plane: each colour[..., c] is contiguous (see _colour_and_alpha),
    # which is several times faster than broadcasting over the interleaved (H, W, C) layout.
    planes = [colour[..., c] for c in range(colour.shape[-1])]
    if alpha is not None:
        weight = float(alpha.sum())
        if weight == 0.0:  # fully transparent
            return np.zeros(alpha.shape, dtype=np.float32)
        luma = planes[0] if len(planes) == 1 else sum(w * plane for w, plane in zip(LUMA, planes))  # (H, W)
        under = 1.0 if float(np.vdot(luma, alpha)) / weight < 0.5 else 0.0  # white under dark ink, black under light
        for plane in planes:  # composited in place: a·c + (1 − a)·under = a·(c − under) + under
            plane -= under
            plane *= alpha
            plane += under
    border = np.concatenate([colour[0], colour[-1], colour[:, 0], colour[:, -1]])  # (2W + 2H, C)
    # The border's median is the background. A canvas's border is one colour, whose median needs no sort (4 µs
    # against 26 µs).
    lowest, highest = border.min(axis=0), border.max(axis=0)  # (C,)
    background = lowest if np.array_equal(lowest, highest) else np.median(border, axis=0)
    squared = sum(np.square(plane - level) for plane, level in zip(planes, background)) / len(planes)
    return np.sqrt(squared, dtype=np.float32)  # (H, W); grey levels a and b are |a - b| apart


def _colour_and_alpha(image: Image.Image, crop: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour (H, W, C) and opacity (H, W) or None when fully opaque, float32 in [0, 1], ≤ WORK_SIDE a side.

    Each colour plane colour[..., c] is contiguous in memory (the array is a view of (C, H, W)).
    """
    if image.mode.startswith("I") or image.mode == "F":  # 16/32-bit grey: Pillow's "L" would clip at 255
        # A float image may hold NaN or ±inf: count those pixels as background rather than let them spread.
        grey = np.nan_to_num(np.asarray(_shrink(image.convert("F")), dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        # I;16 is 16-bit; plain I is 16-bit from older Pillow's PNG reader, or 8-bit data widened.
        sixteen_bit = image.mode.startswith("I;16") or (image.mode == "I" and grey.max() > 255)
        scale = 65535.0 if sixteen_bit else 255.0
        return np.clip(grey / scale, 0.0, 1.0)[..., None], None
    grey = image.mode in ("1", "L", "LA", "La")  # one channel is enough
    mode = "LA" if grey else "RGBA"
    try:
        converted = image if image.mode == mode else image.convert(mode)  # honours palette/grey transparency …
    except ValueError as err:
        raise InputError(f"Images in colour mode {image.mode} are not supported ({err}).") from None
    shrunk = _shrink(converted)
    if crop:
        shrunk = _crop_to_content(shrunk)
    # One conversion of the (H, W, bands) image, then a contiguous (bands, H, W) copy: several times quicker
    # than converting each band of Image.split() on its own.
    *colours, alpha = np.ascontiguousarray(np.moveaxis(np.asarray(shrunk), -1, 0))  # (H, W) uint8 each
    # Grey colours (white or black ink, grey paper) are as far apart in one channel as in three.
    # (Comparing the bytes is a memcmp; np.array_equal builds a boolean array first.)
    if len(colours) == 3 and colours[0].tobytes() == colours[1].tobytes() == colours[2].tobytes():
        colours = colours[:1]
    planes = np.array(colours, dtype=np.float32)  # (C, H, W)
    planes /= 255.0
    return np.moveaxis(planes, 0, -1), (None if alpha.min() == 255 else alpha / np.float32(255.0))


def _crop_to_content(image: Image.Image) -> Image.Image:
    """The LA/RGBA image cropped to what differs from its corner's colour, plus a one-pixel frame of that colour.

    The ink map of the crop is the ink map of the whole image, cut to the same box: outside it every
    pixel is the corner's colour, which is the background (the median of the border, which the crop's
    frame keeps) and adds nothing to the compositing (fully transparent or fully opaque). On
    transparent paper "differs" means "is not fully transparent": an invisible pixel composites to the
    background whatever colour it holds. Other cases are left whole. A canvas is mostly empty, so this
    skips most of the float arithmetic below.
    """
    corner = image.getpixel((0, 0))
    if corner[-1] not in (0, 255):  # half-transparent paper would weigh in the compositing colour
        return image
    if corner[-1] == 0:  # transparent paper: what is invisible composites to the background, whatever its colour
        box = image.getbbox(alpha_only=True)  # the opaque part, read from the alpha band alone
    else:
        box = ImageChops.difference(image, Image.new(image.mode, image.size, corner)).getbbox(alpha_only=False)
    width, height = image.size
    if box is None or box[0] == 0 or box[1] == 0 or box[2] == width or box[3] == height:
        return image  # uniform, or touching the edge (then the border's median could be another colour)
    left, top, right, bottom = box
    cropped = image.crop((left - 1, top - 1, right + 1, bottom + 1))
    if corner[-1] == 255 and cropped.getchannel(cropped.mode[-1]).getextrema()[0] < 255:
        return image  # opaque paper with transparent ink: all of the paper weighs in the compositing colour
    return cropped


def _shrink(image: Image.Image) -> Image.Image:
    """Box-average an image down so its longer side is at most WORK_SIDE (RGBA is premultiplied by Pillow)."""
    width, height = image.size
    scale = WORK_SIDE / max(width, height)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.BOX)


# ---- 2. ink map → 28×28 ---------------------------------------------------------------------


def mnist_frame(ink: np.ndarray) -> np.ndarray | None:
    """(H, W) ink → (28, 28) float32 in [0, 1] MNIST-style, or None when there is no ink."""
    peak = float(ink.max()) if ink.size else 0.0
    if peak < MIN_CONTRAST:
        return None
    ink = ink / peak
    ink[ink < INK_THRESHOLD] = 0.0
    fine = resize_longer_side(crop_to_ink(ink), FINE, Image.Resampling.BILINEAR)
    fine = crop_to_ink(normalise_strokes(fine))
    box = resize_longer_side(fine, BOX, Image.Resampling.BOX)
    box = np.clip(box / box.max(), 0.0, 1.0)
    return centre_of_mass_frame(box)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """(H, W) → (h, w), the bounding box of the pixels at or above INK_THRESHOLD × the peak."""
    mask = ink >= INK_THRESHOLD * ink.max()
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def resize_longer_side(a: np.ndarray, side: int, resample: Image.Resampling) -> np.ndarray:
    """(h, w) float array → (h', w') with max(h', w') = side, aspect kept, anti-aliased when shrinking."""
    h, w = a.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(a.astype(np.float32)).resize(size, resample), dtype=np.float32)


def stroke_width(a: np.ndarray) -> float:
    """Mean stroke width of an (h, w) drawing in its own pixels: 2 × ink mass / total edge variation.

    A stroke of width w and length ℓ has mass wℓ and two edges of length ℓ; the isotropic
    total variation (sum of gradient magnitudes) measures the edges whatever their direction.
    """
    height, width = a.shape
    p = np.zeros((height + 2, width + 2), a.dtype)  # a in a frame of zeros (np.pad: twice as long in all)
    p[1:-1, 1:-1] = a
    gy = np.diff(p, axis=0)[:, :-1]  # (h + 1, w + 1)
    gx = np.diff(p, axis=1)[:-1, :]  # (h + 1, w + 1)
    variation = float(np.hypot(gx, gy).sum())
    return 2.0 * float(a.sum()) / variation if variation > 0 else 0.0


def normalise_strokes(fine: np.ndarray) -> np.ndarray:
    """(h, w) drawing at FINE resolution → strokes dilated or eroded into MNIST's width range.

    Widths are compared in pixels of the final 20-px box (FINE / BOX = 4 fine pixels each).
    The result is padded by the disc radius so dilated strokes keep room to grow.
    """
    per_box_px = FINE / BOX
    width = stroke_width(fine) / per_box_px
    if width < THIN:
        # A hairline shrunk to FINE is faint (a 1-px line 3× smaller keeps a third of its ink):
        # bring its strokes to full strength first, or the dilated strokes stay grey, unlike MNIST's.
        strokes = fine[fine >= INK_THRESHOLD * fine.max()]
        fine = np.clip(fine / np.quantile(strokes, 0.9), 0.0, 1.0)
        return grey_morphology(fine, round((THIN_TARGET - width) / 2 * per_box_px), np.maximum)
    if width > THICK:
        eroded = grey_morphology(fine, round((width - THICK_TARGET) / 2 * per_box_px), np.minimum)
        if eroded.max() >= 0.5 * fine.max():  # never erode a blob away
            return eroded
    return fine


def grey_morphology(a: np.ndarray, radius: int, op: np.ufunc) -> np.ndarray:
    """Grey dilation (op=np.maximum) or erosion (np.minimum) of (h, w) by a disc: → (h + 2r, w + 2r)."""
    if radius < 1:
        return a
    grown = np.pad(a, radius)  # room to grow; outside the drawing is background (0)
    padded = np.pad(grown, radius)
    h, w = grown.shape
    out = grown.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx <= radius * radius + radius:  # a disc, slightly fuller than x²+y² ≤ r²
                out = op(out, padded[radius + dy : radius + dy + h, radius + dx : radius + dx + w])
    return out


def centre_of_mass_frame(box: np.ndarray) -> np.ndarray:
    """(h, w) digit with max(h, w) = 20 → (28, 28), shifted by whole pixels so its centre of mass
    is as close to (CENTRE, CENTRE) as possible while the whole digit stays inside the frame."""
    h, w = box.shape
    mass = float(box.sum())
    com_row = float(box.sum(axis=1) @ np.arange(h)) / mass
    com_col = float(box.sum(axis=0) @ np.arange(w)) / mass
    top = int(np.clip(np.floor(CENTRE - com_row + 0.5), 0, FRAME - h))
    left = int(np.clip(np.floor(CENTRE - com_col + 0.5), 0, FRAME - w))
    frame = np.zeros((FRAME, FRAME), dtype=np.float32)
    frame[top : top + h, left : left + w] = box
    return frame
