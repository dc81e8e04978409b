"""A trial for real drawings: a small convolutional network (``bench.convnet``), alone and averaged with the MLP.

The service runs the MLPs in ``model/``; this asks whether a network that sees strokes would help it. It
trains with the default preset's augmentation (half the digits redrawn with a pen, half the 1s flagged,
half the 7s crossed) on the first 55,000 training digits, and scores on the tuning set
(``bench.canvas_tune``) and, with ``--canvas``, on the canvas set of ``make canvas-eval`` — each network
alone and the mean of their output probabilities::

    python -m bench.convnet_trial train --epochs 40 --output bench/out/convnet-16-32.npz   # ~30 min, 1 thread
    python -m bench.convnet_trial score bench/out/convnet-16-32.npz [--canvas]

The canvas set is scored in process here (its drawings encoded as PNG and preprocessed as the API
does, no HTTP), because the service cannot average two kinds of network; the MLP alone scores here
exactly as through the API.
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from app.preprocess import preprocess
from bench.canvas_set import drawings
from bench.canvas_sources import uci_digits, usps_digits
from bench.canvas_tune import HOLDOUT, tuning_sets
from bench.convnet import ConvNet
from model import mnist, optim
from model.augment import Augmentation, augment
from model.strokes import centre_lines
from model.weights import load

REPO = Path(__file__).resolve().parent.parent
MLP = REPO / "model" / "weights" / "default.npz"
AUGMENTATION = Augmentation(restroke=0.5, flags=0.5, crossbars=0.5)  # the default preset's (model/train.py)


def train(args: argparse.Namespace) -> int:
    data = mnist.load(args.data_dir)
    x_all, y_all = mnist.as_vectors(data.train_images), data.train_labels.astype(np.int64)
    x, y = x_all[:-HOLDOUT], y_all[:-HOLDOUT]
    net = ConvNet(args.c1, args.c2, args.hidden, args.seed)
    params = net.params()
    optimizer = optim.make_optimizer("adam", params, [True] * 4 + [False] * 4, args.weight_decay, 0.9)
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
    return 0


def save(net: ConvNet, path: Path) -> None:
    shape = np.array([net.c1, net.c2, net.hidden])
    np.savez(path, shape=shape, **{f"p{i}": p for i, p in enumerate(net.params())})


def load_convnet(path: Path) -> ConvNet:
    with np.load(path, allow_pickle=False) as f:
        net = ConvNet(*(int(v) for v in f["shape"]))
        for i, p in enumerate(net.params()):
            p[...] = f[f"p{i}"]
    return net


def canvas_set(data: mnist.Mnist) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The canvas set's drawings as the API would preprocess them: x (n, 784), labels (n,), sources (n,)."""
    sources = [("mnist-test", data.test_images, data.test_labels), ("uci-digits", *uci_digits()),
               ("usps", *usps_digits())]
    x, labels, names = [], [], []
    for source, images, digits in sources:
        for drawing in drawings(list(images), digits, source, seed=0):
            png = io.BytesIO()
            drawing.image.save(png, "PNG")
            x.append(preprocess(Image.open(png)).pixels)
            labels.append(drawing.label)
            names.append(source)
    return np.stack(x), np.array(labels), np.array(names)


def score(args: argparse.Namespace) -> int:
    data = mnist.load(args.data_dir)
    mlp = load(MLP).network
    networks = {"MLP (default)": mlp.feedforward} | {
        path.name: load_convnet(path).predict_proba for path in args.convnets
    }
    sets = {"held-out": (mnist.as_vectors(data.train_images[-HOLDOUT:]), data.train_labels[-HOLDOUT:])}
    sets |= {name: (t.x, t.y) for name, t in tuning_sets(data).items()}
    if args.canvas:  # the test sets, last: for the record, never for choosing
        x, labels, sources = canvas_set(data)
        sets |= {"MNIST test": (mnist.as_vectors(data.test_images), data.test_labels), "canvas set": (x, labels)}
    outputs = {name: {s: forward(x) for s, (x, _) in sets.items()} for name, forward in networks.items()}
    print("| networks (outputs averaged) | " + " | ".join(sets) + " | summed error, tuning set |")
    print("|" + " --- |" * (len(sets) + 2))
    for count in range(1, len(networks) + 1):
        for chosen in itertools.combinations(networks, count):
            right = {s: sum(outputs[n][s] for n in chosen).argmax(1) == y for s, (_, y) in sets.items()}
            cells = [f"{r.mean():.2%}" for r in right.values()]
            if args.canvas:
                wrong = ~right["canvas set"]
                cells[-1] += f" ({wrong.sum()} wrong: " + ", ".join(
                    f"{s} {wrong[sources == s].sum()}" for s in dict.fromkeys(sources)) + ")"
            summed = sum(1 - right[s].mean() for s in ("held-out", "canvas", "coarse", "styled"))
            print(f"| {' + '.join(chosen)} | " + " | ".join(cells) + f" | {summed:.2%} |")
    return 0


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
    s = commands.add_parser("score", parents=[shared], help="score the default MLP, these networks and their averages")
    s.add_argument("convnets", nargs="+", type=Path, help="weights files written by `train`")
    s.add_argument("--canvas", action="store_true", help="also MNIST test and the canvas set (about 5 minutes)")
    args = p.parse_args(argv)
    try:
        return train(args) if args.command == "train" else score(args)
    except (OSError, KeyError, ValueError, mnist.MnistError) as err:  # a readable line, not a traceback
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
