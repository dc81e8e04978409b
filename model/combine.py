"""Combine trained networks into one model that answers with the mean of their outputs (``model.average``).

    python -m model.combine build/default-mlp.npz build/default-convnet.npz --output model/weights/default.npz

The first file's network is the one the page shows (its layers, its first layer's weights); each file's
metadata — training settings, history, test accuracy — is kept whole inside the new file. The combined
model is evaluated on the MNIST test set once, for its metadata, as ``model.train`` does; choosing which
networks to combine is for the tuning set (``python -m bench.average_tune``), never for this figure.
A file that already combines networks is read as its networks, so one can be combined with a third.
``--shifts 0,1`` makes the second network also read each drawing moved by 1 pixel up, down, left and right
and answer with the mean over those five views (``model.average``); without it, each network keeps the shift
its file gave it (0 for a file of one network).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from model import mnist
from model.average import VIEWS, Average
from model.convnet import ConvNet
from model.evaluate import evaluate
from model.network import Network
from model.weights import WeightsError, load, save_average


def members(path: Path) -> list[tuple[Network | ConvNet, dict[str, Any], int]]:
    """The networks in a weights file, each with its own metadata and shift; raise WeightsError if unreadable."""
    model = load(path)
    if isinstance(model.network, Average):
        return list(zip(model.network.networks, model.metadata["networks"], model.network.shifts, strict=True))
    return [(model.network, model.metadata, 0)]


def same_network(a: Network | ConvNet, b: Network | ConvNet) -> bool:
    """Whether two networks are one: the same kind, shapes and parameters."""
    params_a, params_b = [*a.weights, *a.biases], [*b.weights, *b.biases]
    return a.kind == b.kind and len(params_a) == len(params_b) and all(
        p.shape == q.shape and np.array_equal(p, q) for p, q in zip(params_a, params_b)
    )


def shift_list(text: str) -> list[int]:
    """'0,1' → [0, 1], for argparse."""
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers and commas, e.g. 0,1; got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m model.combine", description=__doc__.split("\n\n")[0])
    p.add_argument("weights", nargs="+", type=Path, help="two or more weights files; the first one is shown")
    p.add_argument("--output", type=Path, required=True, help="weights file to write")
    p.add_argument("--shifts", type=shift_list, metavar="S1,S2,…",
                   help="one per network: how far it also reads each drawing moved each way, 0 to 3 pixels "
                        "(default: the shifts the files give, 0 for a file of one network)")
    p.add_argument("--name", help="the model's name in its metadata (default: the output file's name)")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    args = p.parse_args(argv)
    try:
        found = [member for path in args.weights for member in members(path)]
        networks = [(net, meta) for net, meta, _ in found]
        shifts = args.shifts if args.shifts is not None else [shift for *_, shift in found]
        average = Average([net for net, _ in networks], shifts)  # says what cannot be averaged, and why
        for i, (net, _) in enumerate(networks):
            for j, (other, _) in enumerate(networks[:i]):
                if same_network(net, other):
                    raise ValueError(f"networks {j + 1} and {i + 1} are the same network: each would count twice")
        if args.output.suffix != ".npz":
            raise ValueError(f"--output {args.output}: expected a .npz file")
        folder = next(f for f in (args.output.parent, *args.output.parent.parents) if f.exists())  # made if missing
        if not os.access(folder, os.W_OK):  # checked before the evaluation, not found after it
            raise ValueError(f"--output {args.output}: cannot write in {folder}")
        data = mnist.load(args.data_dir)
    except (WeightsError, ValueError, mnist.MnistError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    batch = 2000 // VIEWS if any(average.shifts) else 2000  # a network with views reads five rows per digit
    test = evaluate(average, mnist.as_vectors(data.test_images), data.test_labels, batch)
    metadata = {
        "name": args.name or args.output.stem,
        "history": networks[0][1].get("history", []),  # the shown network's, as the page charts it
        "test_accuracy": round(test.accuracy, 5),
        "per_digit_accuracy": test.per_digit,
        "confusion_matrix": test.confusion,
        "data_sha256": data.sha256(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    save_average(args.output, networks, metadata, average.shifts)
    for (net, meta), shift in zip(networks, average.shifts, strict=True):
        alone = meta.get("test_accuracy")
        note = f", reading each drawing also moved by {shift} px each way" if shift else ""
        print(f"  {meta.get('name', '?')} ({net.kind}, {net.parameter_count:,} parameters{note}): test accuracy "
              + (f"{alone:.2%}" if isinstance(alone, float) else "not recorded"))
    print(f"averaged: test accuracy {test.accuracy:.2%}, {average.parameter_count:,} parameters, wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
