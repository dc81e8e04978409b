"""bench.canvas_fidelity: the comparison of centre lines, on shapes whose answer is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("scipy", reason="the canvas set needs the eval extra: pip install -e '.[eval]'")

from bench import canvas_fidelity as cf  # noqa: E402


def digit(shape: str) -> np.ndarray:
    """A (28, 28) uint8 digit, ink high: "0" a closed ring, "c" the same ring open on the right, "1" a bar."""
    image = Image.new("L", (28, 28), 0)
    pen = ImageDraw.Draw(image)
    if shape == "1":
        pen.line((14, 4, 14, 24), fill=255, width=3)
    else:
        pen.ellipse((8, 4, 20, 24), outline=255, width=3)
        if shape == "c":
            pen.rectangle((16, 11, 22, 17), fill=0)
    return np.asarray(image)


def test_loops_are_counted() -> None:
    assert [cf.loops(cf.centre_line(digit(s))) for s in ("0", "c", "1")] == [1, 0, 0]


def test_same_line_is_faithful_and_an_opened_loop_is_not() -> None:
    ring = cf.centre_line(digit("0"))
    assert cf.compare(ring, ring) == (False, False, 0.0)
    loops_differ, _, mean = cf.compare(ring, cf.centre_line(digit("c")))
    assert loops_differ and 0 < mean < 0.05  # the lines lie close, but the loop is gone
    _, stray, _ = cf.compare(ring, cf.centre_line(digit("1")))
    assert stray  # a bar is nowhere near a ring's sides


def test_usps_like_reduction_keeps_the_shape() -> None:
    reduced = cf.usps_like(np.stack([digit("0"), digit("1")]))
    assert reduced.shape == (2, 16, 16) and 0.9 < reduced.max() <= 1.0
    assert (reduced[0].max(axis=1) > 0.3).sum() == 16  # the ring's longer side fills the 16 rows
    assert cf.loops(cf.centre_line(reduced[0])) == 1


def test_the_table(mnist_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cf.main(["--digits", "40", "--data-dir", str(mnist_dir)]) == 0
    rows = [line.strip("| ").split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [row[0] for row in rows[2:]] == list(cf.REDUCTIONS)
    table = {row[0]: [float(cell.rstrip("%")) for cell in row[1:]] for row in rows[2:]}
    now, before = table["USPS-like, blurred as USPS's digits"][:3], table["USPS-like, blurred as USPS's digits"][3:]
    # Blurred 16×16 digits: sharpened, with their dips reopened, they lose fewer loops and strokes.
    assert now[0] < before[0] and now[1] < before[1] and now[2] < before[2]


def test_usps_blurred_has_soft_edges_like_usps() -> None:
    digits = np.stack([digit("0"), digit("1")])
    sharp, blurred = cf.usps_like(digits), cf.usps_blurred(digits)
    assert blurred.shape == (2, 16, 16)

    def grey_share(images: np.ndarray) -> float:  # pixels neither paper nor full ink, of the digit's peak
        a = images / images.max(axis=(1, 2), keepdims=True)
        return float(((a > 0.1) & (a < 0.9)).mean())

    assert grey_share(blurred) > 1.5 * grey_share(sharp)
