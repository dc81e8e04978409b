"""A trial for real drawings: a small convolutional network (``bench.convnet``), alone and averaged with the MLP.

The service runs the MLPs in ``model/``; this asks whether a network that sees strokes would help it. It
trains with the default preset's augmentation (half the digits redrawn with a pen, half the 1s flagged,
half the 7s crossed) on the first 55,000 training digits, and scores on the tuning set
(``bench.canvas_tune``) and, with ``--canvas``, on the canvas set of ``make canvas-eval`` — each network
alone and the mean of their output probabilities::

    python -m bench.convnet_trial train --output bench/out/convnet-16-32.npz      # ~30 min at --threads 1
    python -m bench.convnet_trial train --c1 32 --c2 64 --epochs 25 --output bench/out/convnet-32-64.npz
    python -m bench.convnet_trial score bench/out/convnet-16-32.npz bench/out/convnet-32-64.npz [--canvas]

The canvas set is scored in process here (its drawings encoded as PNG, decoded and preprocessed by the
API's own functions, no HTTP), because the service cannot average two kinds of network; the MLP alone
makes exactly the mistakes it makes through the API.
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.images import decode, read_header
from app.preprocess import preprocess
from bench.canvas_set import drawings
from bench.canvas_sources import uci_digits, usps_digits
from bench.canvas_tune import HOLDOUT, share, tuning_sets
from bench.convnet import ConvNet
from model import blas, mnist, optim
from model.augment import augment
from model.strokes import centre_lines
from model.train import PRESETS
from model.weights import WeightsError, load

REPO = Path(__file__).resolve().parent.parent
MLP = REPO / "model" / "weights" / "default.npz"
AUGMENTATION = PRESETS["default"].augmentation
TUNING_NAMES = {"canvas": "drawings", "coarse": "8×8", "styled": "styled"}  # the tuning sets, as the README names them


def train(data: mnist.Mnist, args: argparse.Namespace) -> None:
    """Train a ConvNet on all but the last HOLDOUT training digits; write it to args.output after every epoch."""
    x_all, y_all = mnist.as_vectors(data.train_images), data.train_labels.astype(np.int64)
    x, y = x_all[:-HOLDOUT], y_all[:-HOLDOUT]
    net = ConvNet(args.c1, args.c2, args.hidden, args.seed)
    params = net.params()
    optimizer = optim.make_optimizer("adam", params, net.decay_mask(), args.weight_decay)
    lines = centre_lines(x.reshape(-1, 28, 28))  # what the pen augmentation redraws
    rng = np.random.default_rng(args.seed)  # order, augmentation and dropout
    steps_per_epoch = -(-len(x) // args.batch_size)
    total = steps_per_epoch * args.epochs
    for epoch in range(args.epochs):
        started, loss_sum = time.perf_counter(), 0.0
        order = rng.permutation(len(x))
        for step in range(steps_per_epoch):
            idx = order[step * args.batch_size : (step + 1) * args.batch_size]
            batch = augment(x[idx].reshape(-1, 28, 28), rng, AUGMENTATION, lines[idx], y[idx]).reshape(len(idx), -1)
            loss, grads = net.backprop(batch, y[idx], rng, args.dropout)
            lr = optim.learning_rate("cosine", args.lr, (epoch * steps_per_epoch + step) / total, warmup=0.02)
            optimizer.step(grads, lr)
            loss_sum += loss
        held_out = (net.predict_proba(x_all[-HOLDOUT:]).argmax(1) == y_all[-HOLDOUT:]).mean()
        print(f"epoch {epoch + 1}: loss {loss_sum / steps_per_epoch:.4f}, held-out {held_out:.2%}, "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        save(net, args.output)
    test = (net.predict_proba(mnist.as_vectors(data.test_images)).argmax(1) == data.test_labels).mean()
    print(f"MNIST test: {test:.2%}")


def save(net: ConvNet, path: Path) -> None:
    """The network's shape and parameters as a plain .npz (no pickle)."""
    shape = np.array([net.c1, net.c2, net.hidden])
    np.savez(path, shape=shape, **{f"p{i}": p for i, p in enumerate(net.params())})


def load_convnet(path: Path) -> ConvNet:
    """A network written by ``save``; ValueError if the file holds something else."""
    with np.load(path, allow_pickle=False) as f:
        if "shape" not in f.files or f["shape"].shape != (3,) or (f["shape"] < 1).any():
            raise ValueError(f"{path}: not a file written by `python -m bench.convnet_trial train`")
        net = ConvNet(*(int(v) for v in f["shape"]))
        for i, p in enumerate(net.params()):
            stored = f[f"p{i}"] if f"p{i}" in f.files else None
            if stored is None or stored.shape != p.shape:
                raise ValueError(f"{path}: parameter {i} is missing or has the wrong shape")
            p[...] = stored
    return net


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
    for count in range(1, len(networks) + 1):
        for chosen in itertools.combinations(networks, count):
            right = {s: sum(outputs[n][s] for n in chosen).argmax(1) == y for s, (_, y) in sets.items()}
            cells = {s: share(r) for s, r in right.items()}
            if canvas:
                wrong = ~right["canvas set"]
                per_source = ", ".join(f"{s} {wrong[sources == s].sum()}" for s in dict.fromkeys(sources))
                cells["canvas set"] += f" ({wrong.sum()} wrong: {per_source})"
            summed = sum(1 - right[s].mean() for s in ("held-out", *TUNING_NAMES.values()))
            print(f"| {' + '.join(chosen)} | " + " | ".join(cells.values()) + f" | {summed:.2%} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.convnet_trial", description=__doc__.split("\n\n")[0])
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    commands = p.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train", parents=[shared], help="train a convolutional network")
    t.add_argument("--output", type=Path, required=True, help="weights file to write (after every epoch)")
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--c1", type=int, default=16, help="channels of the first convolution")
    t.add_argument("--c2", type=int, default=32, help="channels of the second convolution")
    t.add_argument("--hidden", type=int, default=128, help="neurons of the dense hidden layer")
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--weight-decay", type=float, default=0.01)
    t.add_argument("--dropout", type=float, default=0.3)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, help="BLAS threads (default: OPENBLAS_NUM_THREADS, else every core)")
    s = commands.add_parser("score", parents=[shared], help="score the default MLP, these networks and their averages")
    s.add_argument("convnets", nargs="+", type=Path, help="weights files written by `train`")
    s.add_argument("--canvas", action="store_true", help="also MNIST test and the canvas set (about 5 minutes)")
    args = p.parse_args(argv)
    try:  # what the user named, read up front: a readable line instead of a traceback
        data = mnist.load(args.data_dir)
        if args.command == "train":
            if not args.output.parent.is_dir() or args.output.suffix != ".npz":
                raise ValueError(f"--output {args.output}: expected a .npz file in an existing folder")
        else:
            networks = {"MLP (default)": load(MLP).network.feedforward}
            networks |= {path.name: load_convnet(path).predict_proba for path in args.convnets}
    except (OSError, ValueError, WeightsError, mnist.MnistError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.command == "train":
        if args.threads and blas.threads(args.threads) is None:
            print("warning: OpenBLAS not found, --threads ignored", file=sys.stderr)
        train(data, args)
    else:
        score(data, networks, args.canvas)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
