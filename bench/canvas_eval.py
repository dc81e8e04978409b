"""Evaluate models on the canvas set through the real API, print the table, save the mistakes.

    python -m bench.canvas_eval                       # both committed models, the whole set
    python -m bench.canvas_eval --mnist 2000 --uci 500 --usps 0 --model default=/tmp/runs/default.npz
    python -m bench.canvas_eval --pen 3000             # also 3,000 of the UCI pen-based digits

Builds the canvas set (bench.canvas_set) in memory from the MNIST test digits and other writers'
(bench.canvas_sources: the UCI digits, USPS, on request the pen-based digits), starts ``python -m app``
on a free loopback port serving the given weights, sends every drawing as a PNG data URL to
``POST /api/predict/batch`` once per model, and prints a
Markdown table of accuracy per source and per style, with each model's accuracy on the MNIST
test set's own vectors and on every digit as its source holds it (enlarged, not redrawn; a
pen-based digit as its polyline) for comparison. For the last model named it also prints each source's
commonest mistakes and saves its misclassified drawings as a contact sheet (default
bench/out/canvas-mistakes.png, git-ignored).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from bench.canvas_report import Case, confusions, contact_sheet, table
from bench.canvas_server import REPO, data_url, predict_all, serve
from bench.canvas_set import drawings, scanned
from bench.canvas_sources import SourceError, pen_digits, polyline_digit, uci_digits, usps_digits
from model import mnist
from model.evaluate import evaluate
from model.weights import load

DEFAULT_MODELS = {name: REPO / "model" / "weights" / f"{name}.npz" for name in ("classic", "default")}
SHEET_LIMIT = 160  # mistakes shown on the contact sheet


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.canvas_eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", metavar="NAME=PATH", help="a weights file to serve as NAME "
                   "(repeatable; default: classic and default from model/weights)")
    p.add_argument("--mnist", type=int, default=10000, help="MNIST test digits to draw (the first N)")
    p.add_argument("--uci", type=int, default=1797, help="UCI digits to draw (the first N; 0 to skip)")
    p.add_argument("--usps", type=int, default=4649, help="USPS test digits to draw (the first N; 0 to skip)")
    p.add_argument("--pen", type=int, default=0,
                   help="UCI pen-based digits to draw (the first N; none by default: see the README)")
    p.add_argument("--seed", type=int, default=0, help="seed of the styles")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    p.add_argument("--sheet", type=Path, default=REPO / "bench" / "out" / "canvas-mistakes.png",
                   help="where to save the contact sheet of the last model's mistakes")
    return p.parse_args(argv)


def model_paths(specs: list[str] | None) -> dict[str, Path]:
    if not specs:
        return dict(DEFAULT_MODELS)
    models = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--model {spec!r}: expected NAME=PATH")
        models[name] = Path(path)
    return models


def other_writers(uci: int, usps: int, pen: int) -> list[tuple[str, list[np.ndarray], np.ndarray]]:
    """(source, digits, labels) of the first N digits of each non-MNIST source asked for (N > 0)."""
    sets = []
    for name, count, load_source in (("uci-digits", uci, uci_digits), ("usps", usps, usps_digits)):
        if count > 0:
            images, labels = load_source()
            sets.append((name, list(images[:count]), labels[:count]))
    if pen > 0:
        paths, labels = pen_digits()
        sets.append(("pen-digits", [polyline_digit(p) for p in paths[:pen]], labels[:pen]))
    return sets


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        models = model_paths(args.model)
        for path in models.values():
            if not path.is_file():
                raise ValueError(f"no weights file {path}")
        data = mnist.load(args.data_dir)
    except (ValueError, mnist.MnistError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    raw = {
        name: evaluate(load(path).network, mnist.as_vectors(data.test_images), data.test_labels).accuracy
        for name, path in models.items()
    }
    sets = [("mnist-test", data.test_images[: args.mnist], data.test_labels[: args.mnist])]
    try:
        sets += other_writers(args.uci, args.usps, args.pen)
    except SourceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    started = time.perf_counter()
    built = [d for source, images, labels in sets for d in drawings(images, labels, source, args.seed)]
    urls = [data_url(d.image) for d in built]
    print(f"built {len(built)} drawings in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    # The same digits as their source holds them, not redrawn: the difference is what the redrawing loses.
    to_scan = [(source, index, int(label), digit) for source, images, labels in sets
               for index, (digit, label) in enumerate(zip(images, labels))]
    scan_urls = [data_url(scanned(digit)) for *_, digit in to_scan]

    answers: dict[str, list[dict]] = {}
    scan_answers: dict[str, list[dict]] = {}
    with serve(models) as base:
        for name in models:
            started = time.perf_counter()
            answers[name] = predict_all(base, name, urls)
            scan_answers[name] = predict_all(base, name, scan_urls)
            print(f"{name}: {len(urls)} + {len(scan_urls)} predictions in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)

    cases = [
        Case(d.source, d.index, d.label, d.style, {name: answers[name][i]["digit"] for name in models})
        for i, d in enumerate(built)
    ]
    scans = [
        Case(source, index, label, None, {name: scan_answers[name][i]["digit"] for name in models})
        for i, (source, index, label, _) in enumerate(to_scan)
    ]
    print(table(cases, list(models), [s for s, _, _ in sets], raw, scans))
    last = list(models)[-1]
    print(f"\n{last}'s commonest mistakes (true → answered, how often):")
    for source, _, _ in sets:
        print(f"- {source}: {confusions(cases, last, source)}")
    wrong = [i for i, c in enumerate(cases) if c.predicted[last] != c.label]
    per_source = SHEET_LIMIT // len(sets)  # an equal share of the sheet for each source's mistakes
    shown = [i for source, _, _ in sets for i in [j for j in wrong if cases[j].source == source][:per_source]]
    mistakes = [
        (
            built[i].image,
            np.asarray(answers[last][i]["input"], dtype=np.float32),
            f"{built[i].label}→{cases[i].predicted[last]} {built[i].style.pen} {built[i].source[:4]}",
        )
        for i in shown
    ]
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(mistakes).save(args.sheet)
    print(f"\n{last}: {len(wrong)} mistakes; contact sheet of {len(mistakes)} of them: {args.sheet}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
