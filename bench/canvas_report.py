"""The canvas evaluation's outputs: the accuracy table (per source and per style), each source's commonest
mistakes, and a contact sheet.

``table`` is Markdown, ready for the README. The contact sheet shows each misclassified drawing as
sent (transparent areas over a grey checkerboard) beside the 28×28 image the network saw, with
``true→predicted`` under it, so the causes of the mistakes can be seen at a glance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from bench.canvas_set import COLOURS, PENS, SCAN_SIDE, SIZES, Style


@dataclass
class Case:
    """One drawing of the set and what each model answered for it."""

    source: str
    index: int
    label: int
    style: Style | None  # None for a digit as scanned (not a drawing)
    predicted: dict[str, int | None]  # model name → digit (None for an empty answer)


def style_groups() -> list[tuple[str, Callable[[Style], bool]]]:
    """(row title, does a style belong) for every row of the table, in order."""
    rows: list[tuple[str, Callable[[Style], bool]]] = [("**all drawings**", lambda s: True)]
    rows += [(f"colours: {c}", lambda s, c=c: s.colours == c) for c in COLOURS]
    rows += [(f"pen: {p}", lambda s, p=p: s.pen == p) for p in PENS]
    for z, (lo, hi) in SIZES.items():
        rows.append((f"size: {z} ({lo:.2g}–{hi:.2g} of the canvas)", lambda s, z=z: s.size == z))
    rows += [(f"canvas: {k}", lambda s, k=k: s.canvas_kind == k) for k in ("280×280", "560×560", "non-square")]
    rows += [("edges: anti-aliased", lambda s: s.antialias), ("edges: hard", lambda s: not s.antialias)]
    return rows


def accuracy(cases: Sequence[Case], model: str) -> float | None:
    if not cases:
        return None
    return sum(c.predicted[model] == c.label for c in cases) / len(cases)


def table(
    cases: Sequence[Case],
    models: Sequence[str],
    sources: Sequence[str],
    raw: dict[str, float],
    scans: Sequence[Case] = (),
) -> str:
    """Markdown table: one row per style group, per model one column per source and one for all sources.

    raw: model → accuracy on the MNIST test set's own 28×28 vectors (the first row, for comparison).
    scans: each source's digits as scanned, not redrawn (``canvas_set.scanned``; the second row when given).
    """
    def pct(value: float | None) -> str:
        return "–" if value is None else f"{100 * value:.2f}%"

    heads = ["drawings"] + [f"{m}: {s}" for m in models for s in (*sources, "all")]
    lines = ["| " + " | ".join(["style", *heads]) + " |", "| " + " | ".join(["---"] * (len(heads) + 1)) + " |"]
    first = ["MNIST test set itself (28×28 vectors, no canvas)", "10000"]
    first += [cell for m in models for cell in ([pct(raw.get(m)), *["–"] * len(sources)])]
    lines.append("| " + " | ".join(first) + " |")
    groups = [(title, [c for c in cases if belongs(c.style)]) for title, belongs in style_groups()]
    if scans:
        groups.insert(0, (f"as scanned: each digit's own pixels enlarged to {SCAN_SIDE} px, not redrawn", list(scans)))
    for title, group in groups:
        counts = " / ".join(str(sum(c.source == s for c in group)) for s in sources)
        cells = [title, counts]
        for m in models:
            cells += [pct(accuracy([c for c in group if c.source == s], m)) for s in sources]
            cells.append(f"**{pct(accuracy(group, m))}**" if title.startswith("**") else pct(accuracy(group, m)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def confusions(cases: Sequence[Case], model: str, source: str, top: int = 5) -> str:
    """The commonest mistakes of ``model`` on one source's drawings: "5 → 3 ×12, 8 → 9 ×11, …" (or "none")."""
    mine = [c for c in cases if c.source == source]
    wrong = Counter((c.label, c.predicted[model]) for c in mine if c.predicted[model] != c.label)
    # Commonest first; ties by true digit, then answer (an empty answer last), so the line is the same every run.
    pairs = sorted(wrong.items(), key=lambda item: (-item[1], item[0][0], item[0][1] is None, item[0][1] or 0))
    return ", ".join(f"{t} → {'empty' if p is None else p} ×{n}" for (t, p), n in pairs[:top]) or "none"


TILE = 96  # the drawing's thumbnail side in the contact sheet
CAPTION = 14


def contact_sheet(
    mistakes: Sequence[tuple[Image.Image, np.ndarray, str]], columns: int = 8
) -> Image.Image:
    """[(drawing as sent, (784,) input the network saw, caption)] → one RGB sheet, a tile per mistake."""
    width = 2 * TILE + 6
    height = TILE + CAPTION + 4
    rows = max(1, -(-len(mistakes) // columns))
    sheet = Image.new("RGB", (columns * width, rows * height), (255, 255, 255))
    pen = ImageDraw.Draw(sheet)
    for i, (image, seen, caption) in enumerate(mistakes):
        x, y = (i % columns) * width, (i // columns) * height
        sheet.paste(thumbnail(image), (x + 1, y + 1))
        grid = Image.fromarray(np.round(255 * np.asarray(seen).reshape(28, 28)).astype(np.uint8), "L")
        sheet.paste(grid.resize((TILE, TILE), Image.Resampling.NEAREST).convert("RGB"), (x + TILE + 3, y + 1))
        pen.text((x + 3, y + TILE + 2), caption, fill=(200, 0, 0))
    return sheet


def thumbnail(image: Image.Image) -> Image.Image:
    """A drawing as a TILE×TILE RGB thumbnail; transparent areas show a grey checkerboard."""
    rgba = image.convert("RGBA")
    checks = (np.indices((rgba.height, rgba.width)) // 10).sum(axis=0) % 2  # (H, W) 0/1
    board = Image.fromarray(np.where(checks[..., None], 150, 110).astype(np.uint8).repeat(3, axis=2), "RGB")
    board.paste(rgba, mask=rgba.split()[3])
    board.thumbnail((TILE, TILE))
    tile = Image.new("RGB", (TILE, TILE), (255, 0, 255))  # magenta shows a non-square canvas's margins
    tile.paste(board, ((TILE - board.width) // 2, (TILE - board.height) // 2))
    return tile
