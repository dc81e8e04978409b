"""Evaluate weights files on the MNIST test set, or on the drawings people corrected in the page.

    python -m model.evaluate model/weights/classic.npz model/weights/default.npz
    python -m model.evaluate model/weights/*.npz --feedback data/feedback.sqlite3

prints each model's accuracy, its accuracy per digit and the confusion matrix
(rows: true digit, columns: predicted digit). With ``--feedback`` (repeatable) the
drawings come from the service's feedback database (or an export of it, see
``python -m model.feedback``), labelled with the digit the person said it was, instead
of MNIST; MNIST is then not needed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from model import mnist
from model.weights import WeightsError, load


class Classifier(Protocol):
    """What is evaluated: a network (model.network, model.convnet) or an average of several (model.average)."""

    def feedforward(self, x: np.ndarray) -> np.ndarray: ...  # x (n, 784) → outputs (n, 10)


@dataclass
class Evaluation:
    accuracy: float  # fraction in [0, 1]
    per_digit: list[float]  # accuracy on each true digit 0-9
    confusion: list[list[int]]  # confusion[true][predicted]


def outputs(network: Classifier, x: np.ndarray, batch: int = 2000) -> np.ndarray:
    """Output activations (n, 10) for inputs x (n, 784), a batch at a time to bound memory (a convnet's
    im2col rows for 2,000 drawings take 157 MB)."""
    return np.concatenate([network.feedforward(x[i : i + batch]) for i in range(0, len(x), batch)])


def predict(network: Classifier, x: np.ndarray, batch: int = 2000) -> np.ndarray:
    """Predicted digits (n,) for inputs x (n, 784), a batch at a time to bound memory."""
    return outputs(network, x, batch).argmax(axis=1)


def evaluate(network: Classifier, x: np.ndarray, labels: np.ndarray, batch: int = 2000) -> Evaluation:
    predicted = predict(network, x, batch)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels.astype(np.int64), predicted), 1)
    per_digit = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return Evaluation(float((predicted == labels).mean()), per_digit.round(4).tolist(), confusion.tolist())


def format_report(name: str, result: Evaluation, what: str = "test accuracy") -> str:
    lines = [f"{name}: {what} {result.accuracy:.2%}", "", "per digit:"]
    lines.append("  " + "  ".join(f"{d}: {acc:.2%}" for d, acc in enumerate(result.per_digit)))
    lines += ["", "confusion matrix (rows: true digit, columns: predicted):"]
    lines += format_confusion(result.confusion)
    return "\n".join(lines)


def format_confusion(confusion: list[list[int]]) -> list[str]:
    """A 10×10 matrix as aligned text lines, a header of predicted digits then one row per true digit."""
    lines = ["     " + "".join(f"{d:>6}" for d in range(10))]
    for d, row in enumerate(confusion):
        lines.append(f"  {d}  " + "".join(f"{v:>6}" for v in row))
    return lines


def main(argv: list[str] | None = None) -> int:
    from model import feedback  # imported here: model.feedback itself uses this module's formatting

    parser = argparse.ArgumentParser(prog="python -m model.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="+", help="one or more .npz weights files")
    parser.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    parser.add_argument(
        "--feedback",
        action="append",
        metavar="PATH",
        help="evaluate on the drawings collected in this feedback.sqlite3 (or exported .npz) instead of MNIST; "
        "repeatable",
    )
    args = parser.parse_args(argv)
    try:
        if args.feedback:
            x, labels = feedback.combined([feedback.load(path) for path in args.feedback])
            what = f"accuracy on {len(labels)} collected drawings"
            if not len(labels):
                raise feedback.FeedbackError(f"{', '.join(args.feedback)}: no drawings collected yet")
        else:
            data = mnist.load(args.data_dir)
            x, labels, what = mnist.as_vectors(data.test_images), data.test_labels, "test accuracy"
    except (mnist.MnistError, feedback.FeedbackError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    status = 0
    for path in args.weights:
        try:
            model = load(path)
        except WeightsError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
            continue
        print(format_report(f"{model.name} ({path})", evaluate(model.network, x, labels), what))
        print()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
