"""Evaluate weights files on the MNIST test set.

    python -m model.evaluate model/weights/classic.npz model/weights/default.npz

prints each model's accuracy, its accuracy per digit and the confusion matrix
(rows: true digit, columns: predicted digit).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np

from model import mnist
from model.network import Network
from model.weights import WeightsError, load


@dataclass
class Evaluation:
    accuracy: float  # fraction in [0, 1]
    per_digit: list[float]  # accuracy on each true digit 0-9
    confusion: list[list[int]]  # confusion[true][predicted]


def predict(network: Network, x: np.ndarray, batch: int = 2000) -> np.ndarray:
    """Predicted digits (n,) for inputs x (n, 784), a batch at a time to bound memory."""
    return np.concatenate([network.feedforward(x[i : i + batch]).argmax(axis=1) for i in range(0, len(x), batch)])


def evaluate(network: Network, x: np.ndarray, labels: np.ndarray) -> Evaluation:
    predicted = predict(network, x)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels.astype(np.int64), predicted), 1)
    per_digit = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return Evaluation(float((predicted == labels).mean()), per_digit.round(4).tolist(), confusion.tolist())


def format_report(name: str, result: Evaluation) -> str:
    lines = [f"{name}: test accuracy {result.accuracy:.2%}", "", "per digit:"]
    lines.append("  " + "  ".join(f"{d}: {acc:.2%}" for d, acc in enumerate(result.per_digit)))
    lines += ["", "confusion matrix (rows: true digit, columns: predicted):"]
    lines.append("     " + "".join(f"{d:>6}" for d in range(10)))
    for d, row in enumerate(result.confusion):
        lines.append(f"  {d}  " + "".join(f"{v:>6}" for v in row))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="+", help="one or more .npz weights files")
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    args = parser.parse_args(argv)
    try:
        data = mnist.load(args.data_dir)
    except mnist.MnistError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    x, labels = mnist.as_vectors(data.test_images), data.test_labels
    status = 0
    for path in args.weights:
        try:
            model = load(path)
        except WeightsError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
            continue
        print(format_report(f"{model.name} ({path})", evaluate(model.network, x, labels)))
        print()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
