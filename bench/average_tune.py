"""Which networks to average: each network alone and every group's averaged outputs, on the tuning set.

The default model averages the 784-1024-1024-10 MLP with a small convnet (``model.average``), because the
two kinds make different mistakes. This scores networks — each weights file's, an average's one by one —
alone and in every group, on the tuning set (``bench.canvas_tune``: the held-out training digits as
vectors, as canvas drawings, reduced to 8×8, styled; their summed error chooses) and, with ``--canvas``,
on MNIST test and the canvas set of ``make canvas-eval``, for the record only::

    python -m model.train --preset convnet --seed 1 --output bench/out/convnet-seed1.npz   # ~40 min, 1 thread
    python -m bench.average_tune model/weights/default.npz bench/out/convnet-seed1.npz [--canvas]

(the committed default holds the MLP and the seed-0 convnet: it counts as two networks here). With
``--shift N`` each network is also scored reading each digit's five views — as it is and moved by N pixels
each way — and answering with their mean (named "… ±N px"), alone and in the groups, as a network averaged
with ``model.combine --shifts`` answers.

The canvas set is scored in process (its drawings encoded as PNG, decoded and preprocessed by the API's
own functions, no HTTP): with every group of networks that is far quicker, and it makes exactly the mistakes
the API makes.
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from app.images import decode, read_header
from app.preprocess import preprocess
from bench.canvas_set import drawings
from bench.canvas_sources import uci_digits, usps_digits
from bench.canvas_tune import HOLDOUT, share, tuning_sets
from model import mnist
from model.average import MAX_SHIFT, mean_over_views, views
from model.combine import members
from model.evaluate import Classifier, outputs
from model.weights import WeightsError

VIEWED = " ±"  # marks a network reading its views in networks_in's names
TUNING_NAMES = {"canvas": "drawings", "coarse": "8×8", "styled": "styled"}  # the tuning sets, as the README names them


def canvas_set(data: mnist.Mnist) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The canvas set's drawings as the API would preprocess them: x (n, 784), labels (n,), sources (n,) names."""
    sources = [("mnist-test", data.test_images, data.test_labels), ("uci-digits", *uci_digits()),
               ("usps", *usps_digits())]
    x, labels, names = [], [], []
    for source, images, digits in sources:
        for drawing in drawings(images, digits, source, seed=0):
            png = io.BytesIO()
            drawing.image.save(png, "PNG")
            x.append(preprocess(decode(read_header(png.getvalue()))).pixels)
            labels.append(drawing.label)
            names.append(source)
    return np.stack(x), np.array(labels), np.array(names)


def score(data: mnist.Mnist, networks: dict[str, Callable[[np.ndarray], np.ndarray]], canvas: bool) -> None:
    """Print a table: each network alone and each group's averaged outputs, on the tuning set (and test sets)."""
    sets = {"held-out": (mnist.as_vectors(data.train_images[-HOLDOUT:]), data.train_labels[-HOLDOUT:])}
    sets |= {TUNING_NAMES[name]: (t.x, t.y) for name, t in tuning_sets(data).items()}
    if canvas:  # the test sets, last: for the record, never for choosing
        x, labels, sources = canvas_set(data)
        sets |= {"MNIST test": (mnist.as_vectors(data.test_images), data.test_labels), "canvas set": (x, labels)}
    outputs = {name: {s: forward(x) for s, (x, _) in sets.items()} for name, forward in networks.items()}
    print("| networks (outputs averaged) | " + " | ".join(sets) + " | summed error, tuning set |")
    print("|" + " --- |" * (len(sets) + 2))
    for chosen in groups(list(networks)):
        right = {s: sum(outputs[n][s] for n in chosen).argmax(1) == y for s, (_, y) in sets.items()}
        cells = {s: share(r) for s, r in right.items()}
        if canvas:
            wrong = ~right["canvas set"]
            per_source = ", ".join(f"{s} {wrong[sources == s].sum()}" for s in dict.fromkeys(sources))
            cells["canvas set"] += f" ({wrong.sum()} wrong: {per_source})"
        summed = sum(1 - right[s].mean() for s in ("held-out", *TUNING_NAMES.values()))
        print(f"| {' + '.join(chosen)} | " + " | ".join(cells.values()) + f" | {summed:.2%} |")


def networks_in(paths: list[Path], shift: int = 0) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Each file's networks by its path, and an average's by number ("….npz #2 convnet"), reading each digit as
    it is (whatever shift the file gives them); with ``shift``, each also reading its views (named "… ±N px");
    raise WeightsError."""
    found = {}
    for path in paths:
        inside = members(path)
        for i, (network, _, _) in enumerate(inside, start=1):
            name = str(path) if len(inside) == 1 else f"{path} #{i} {network.kind}"
            found[name] = partial(viewed_outputs, network, 0)
            if shift:
                found[f"{name}{VIEWED}{shift} px"] = partial(viewed_outputs, network, shift)
    return found


def groups(names: list[str]) -> list[tuple[str, ...]]:
    """Every group of one or more of ``names`` that holds each network once (with or without its views)."""
    return [
        chosen
        for count in range(1, len(names) + 1)
        for chosen in itertools.combinations(names, count)
        if len({network_of(name) for name in chosen}) == count
    ]


def network_of(name: str) -> str:
    """The network a name of ``networks_in`` stands for, with or without its views."""
    return name.split(VIEWED)[0]


def viewed_outputs(network: Classifier, shift: int, x: np.ndarray) -> np.ndarray:
    """x (n, 784) → (n, 10): the network's outputs averaged over x's views (model.average.views)."""
    return mean_over_views(outputs(network, views(x, shift)), shift)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.average_tune", description=__doc__.split("\n\n")[0])
    p.add_argument("weights", nargs="+", type=Path, help="weights files (an average's networks count one by one)")
    p.add_argument("--shift", type=int, default=0, choices=range(MAX_SHIFT + 1), metavar="N",
                   help=f"also score each network reading the digits moved by N pixels each way, 1 to {MAX_SHIFT} "
                        "(default 0: only as they are)")
    p.add_argument("--canvas", action="store_true", help="also MNIST test and the canvas set (about 5 minutes)")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    args = p.parse_args(argv)
    try:  # what the user named, read up front: a readable line instead of a traceback
        networks = networks_in(args.weights, args.shift)
        data = mnist.load(args.data_dir)
    except (WeightsError, mnist.MnistError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    score(data, networks, args.canvas)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
