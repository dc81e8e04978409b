"""Train a network on MNIST and save its weights.

    python -m model.train --preset classic       # 784-16-16-10, sigmoid, quadratic cost, SGD+momentum
    python -m model.train --preset default       # the MLP of the model the app uses by default → build/
    python -m model.train --preset convnet       # the convnet averaged with it (python -m model.combine) → build/
    python -m model.train --preset classic --epochs 5 --lr 1.0 --output /tmp/try.npz
    python -m model.train --preset default --threads 1   # on a machine whose cores other work shares

Any setting of a preset can be overridden on the command line. The last
``--holdout`` training images are kept aside to report accuracy after every
epoch (the test set is only evaluated once, after training). Ctrl-C stops
cleanly, saving the weights of the last completed epoch.

Learning from the drawings people corrected in the page (the default model is both networks, combined):

    python -m model.train --preset default --extra-data data/feedback.sqlite3 --extra-weight 5
    python -m model.train --preset convnet --extra-data data/feedback.sqlite3 --extra-weight 5
    python -m model.combine build/default-mlp.npz build/default-convnet.npz --output /tmp/mine.npz

``--extra-data`` (repeatable; a feedback database or an export of one, see ``python -m model.feedback``)
adds the collected drawings, with the label the person gave, to the MNIST training images. Each counts
``--extra-weight`` times: it is repeated that many times in the training set (oversampling), so every
epoch shows it that often, each time with fresh augmentation when augmentation is on. They are never
part of the held-out slice or the MNIST test set, so the accuracies reported stay comparable with a
model trained on MNIST alone; the weights' metadata records how many drawings came from which file
and how well the trained network reads them.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from model import activations, blas, costs, mnist, optim
from model.augment import Augmentation, augment
from model.combine import members
from model.convnet import ConvNet
from model.evaluate import evaluate
from model.extra_data import extra_metadata, load_extra, with_extra
from model.feedback import FeedbackError
from model.network import INITS, Network
from model.prefetch import ahead
from model.strokes import centre_lines
from model.weights import WeightsError, save


@dataclass
class Config:
    name: str = "model"
    kind: str = "mlp"  # "mlp" (model.network) or "convnet" (model.convnet)
    sizes: list[int] = field(default_factory=lambda: [784, 16, 16, 10])  # an MLP's layers
    channels: list[int] = field(default_factory=lambda: [16, 32])  # a convnet's two convolutions
    hidden: int = 128  # a convnet's dense hidden layer
    hidden_activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    cost: str = "quadratic"
    init: str = "xavier"
    optimizer: str = "momentum"
    momentum: float = 0.9
    lr: float = 0.5
    schedule: str = "cosine"
    warmup: float = 0.0  # fraction of the run with a linear learning-rate warm-up
    weight_decay: float = 0.0
    dropout: float = 0.0
    epochs: int = 30
    batch_size: int = 32
    augment: bool = False
    augmentation: Augmentation = field(default_factory=Augmentation)
    holdout: int = 5000
    seed: int = 0


PRESETS: dict[str, Config] = {
    # 3Blue1Brown's network exactly: 784-16-16-10, sigmoid everywhere, quadratic cost, mini-batch
    # gradient descent (with momentum). Only the training recipe is tuned.
    # Tuned on the held-out slice (96.2% → 96.7% there): momentum 0.9, η = 0.2, batches of 16, cosine
    # decay, a little L2, and mild affine augmentation (stronger distortions do not help 16-16 neurons).
    "classic": Config(
        name="classic",
        lr=0.2,
        batch_size=16,
        epochs=40,
        weight_decay=1e-4,
        augment=True,
        augmentation=Augmentation(rotation=8, scale=0.08, shear=0.1, shift=1.0, elastic_alpha=0.0, thickness=0.0),
    ),
    # The most accurate MLP we could train here in about half an hour on a quiet machine.
    "default": Config(
        name="default",
        sizes=[784, 1024, 1024, 10],
        hidden_activation="relu",
        output_activation="softmax",
        cost="cross_entropy",
        init="he",
        optimizer="adam",
        lr=2e-3,
        schedule="cosine",
        warmup=0.02,
        weight_decay=0.02,
        dropout=0.2,
        # 200 epochs instead of 120, all else the same (seed 0): on the tuning set v7 (held-out vectors / drawings /
        # 8×8 / styled) 99.46 / 99.00 / 97.32 / 98.14% → 99.54 / 99.14 / 97.40 / 98.46%, crossed 7s 95.91% → 97.34%,
        # flagged 1s 94.72% → 94.91%: summed error 6.08% → 5.46%, more than two seeds of one recipe differ (6.54% /
        # 6.10%, pens up to radius 4). With this much augmentation the network was still learning. About 25 minutes
        # alone on the project's machine (120 epochs took 910 s); 50 with another training on the other core.
        epochs=200,
        batch_size=256,
        augment=True,
        # A third of the digits redrawn with a round pen of one width, as a canvas draws: on the tuning set
        # (bench/canvas_tune.py) 95.5% of the 8×8-reduced drawings right instead of 94.8%, the rest unchanged.
        # A third of the 1s written with a flag (half of those with a foot), as much of the world writes them:
        # flagged 1s 66.6% → 89.8% right on the tuning set, drawings 99.00% → 99.06%, 8×8 95.5% → 95.4%, the
        # held-out vectors 99.52% → 99.38%. Flags may also join the stem lower down and run flatter, as in many
        # hands, and half the 1s get one: flagged held-out 1s (new flags) 88.5% → 93.4%, held-out vectors 99.48%,
        # drawings and 8×8 unchanged within 0.1 point (at 0.3 of the 1s: 92.5%, 99.40%). Then half the digits
        # redrawn instead of a third: drawings 98.98% → 99.08%, 8×8 95.38% → 95.66%, held-out vectors 99.48% → 99.36%.
        augmentation=Augmentation(restroke=0.5, flags=0.5, crossbars=0.5),
        # Half the 7s crossed (a bar across the stem, as much of Europe writes them), with the same recipe
        # otherwise, trained at seeds 1 and 0: crossed 7s on the tuning set 92.54% → 96.27 / 96.09% right, flagged 1s
        # 92.08% → 95.09 / 95.09%, drawings 99.12% → 98.92 / 99.04%, 8×8 95.50% → 95.18 / 95.48%, held-out vectors
        # 99.44% → 99.48 / 99.46%. Seed 0 is the better of the two (summed error of the held-out vectors, drawings,
        # 8×8 and styled sets: 7.78% against 8.20%, and 8.34% for the weights before).
        # (Each figure is on the tuning set of its day. Since it finds strokes more faithfully — ink cut at half its
        # local peak, 8×8 digits upsampled as areas: tuning set v6 — those 120-epoch weights score 99.46 / 99.00 /
        # 97.32 / 98.14%, flagged 1s 94.72%, crossed 7s 95.91%.)
        seed=0,
    ),
    # A network that sees strokes (model/convnet.py), trained to be averaged with the default MLP
    # (`python -m model.combine`): the two make different mistakes. Its recipe is the default's augmentation
    # with the usual settings of a small convnet (dropout 0.3 on its dense layer, Adam, batches of 128).
    # 100 epochs of about 45–55 s on one core (88 minutes beside a second run) instead of 40, seeds 0 and 1, on the
    # tuning set v7 (held-out / drawings / 8×8 / styled; python -m bench.average_tune): alone, summed error
    # 6.38% → 5.72% and 6.50% → 6.06%; reading five views (±1 px, model.average), 5.84% →
    # 5.10% (seed 0). Like the MLP, it was still learning. Averaged with the default MLP, seed 0 sums 4.94% (seed 1
    # 5.26%), against 5.08% for the 40-epoch seed 0 (the default before); with views 4.80%, but they cost the service
    # 30% more CPU per prediction (README, "Five views").
    "convnet": Config(
        name="convnet",
        kind="convnet",  # ReLU, softmax outputs and cross-entropy, He initialisation: model/convnet.py
        channels=[16, 32],
        hidden=128,
        optimizer="adam",
        lr=2e-3,
        schedule="cosine",
        warmup=0.02,
        weight_decay=0.01,
        dropout=0.3,
        epochs=100,
        batch_size=128,
        augment=True,
        augmentation=Augmentation(restroke=0.5, flags=0.5, crossbars=0.5),
        seed=0,
    ),
}


# Where each preset's weights go without --output. The default model served is the default preset's MLP
# averaged with the convnet (`make train` combines them), so neither goes straight into the served folder.
WEIGHTS = Path(__file__).parent / "weights"
BUILD = Path(__file__).resolve().parent.parent / "build"
OUTPUTS = {
    "classic": WEIGHTS / "classic.npz",
    "default": BUILD / "default-mlp.npz",
    "convnet": BUILD / "default-convnet.npz",
}
# Settings that only one kind of network has: given for the other kind, they are refused, and not recorded.
ONLY_FOR = {
    "mlp": {"sizes", "hidden_activation", "output_activation", "cost", "init"},
    "convnet": {"channels", "hidden"},
}


def build_network(config: Config) -> Network | ConvNet:
    if config.kind == "convnet":
        return ConvNet(config.channels, config.hidden, config.dropout, config.seed)
    if config.kind != "mlp":
        raise ValueError(f"unknown kind of network {config.kind!r}; choose mlp or convnet")
    acts = [config.hidden_activation] * (len(config.sizes) - 2) + [config.output_activation]
    return Network(config.sizes, acts, config.cost, config.init, config.dropout, config.seed)


# Smaller batches are augmented in the training thread: handing each one over to the helper costs more
# than it saves (a two-epoch run of the classic preset, batches of 16: 4 s without the helper, 6 s with it).
AHEAD_MIN_BATCH = 64


def augments_ahead(config: Config) -> bool:
    """Whether model.train augments this config's batches in a helper thread (see ``train``)."""
    return config.augment and config.batch_size >= AHEAD_MIN_BATCH


def train(
    config: Config,
    x: np.ndarray,
    labels: np.ndarray,
    x_val: np.ndarray | None = None,
    labels_val: np.ndarray | None = None,
    progress: bool = True,
    on_epoch: Any = None,
    augment_ahead: bool = True,
    start: Network | ConvNet | None = None,
) -> tuple[Network | ConvNet, list[dict[str, float]], bool]:
    """Train a fresh network, or go on training ``start``'s parameters (a copy: ``start`` is left as it is).

    x: (n, 784) float32 in [0, 1]; labels: (n,) digits. Returns the network (the
    weights of the last *completed* epoch), the per-epoch history and whether
    training was interrupted by Ctrl-C. With augmentation and ``augment_ahead``, the next
    batch (of AHEAD_MIN_BATCH images or more) is augmented in a second thread while the network
    learns from this one (``model.prefetch.ahead``); the weights are the same either way.
    """
    network = build_network(config)
    if start is not None:
        copy_parameters(start, network)
    rng = np.random.default_rng(config.seed)  # the order of the images, and their augmentation
    # Dropout has a generator of its own, so that the augmentation's draws come in the same order
    # whichever thread makes them, and whenever.
    dropout_rng = np.random.default_rng([config.seed, 1])
    params = [*network.weights, *network.biases]
    decay_mask = [True] * len(network.weights) + [False] * len(network.biases)
    optimizer = optim.make_optimizer(config.optimizer, params, decay_mask, config.weight_decay, config.momentum)
    targets = mnist.one_hot(labels)
    n = len(x)
    steps_per_epoch = -(-n // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    history: list[dict[str, float]] = []
    last_good = [p.copy() for p in params]
    bar_factory = _progress_bar if progress else None
    # Centre lines of every training image, once (about a minute for 55,000): the pen augmentation redraws them.
    lines = centre_lines(x.reshape(-1, 28, 28)) if config.augment and config.augmentation.restroke > 0 else None

    def batch_images(idx: np.ndarray) -> np.ndarray:
        """The training images at idx (b,) → (b, 784), augmented when the config says so."""
        if not config.augment:
            return x[idx]
        batch_lines = None if lines is None else lines[idx]
        images = augment(x[idx].reshape(-1, 28, 28), rng, config.augmentation, batch_lines, labels[idx])
        return images.reshape(len(idx), -1)

    try:
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            order = rng.permutation(n)
            loss_sum = 0.0
            chunks = [order[i : i + config.batch_size] for i in range(0, n, config.batch_size)]
            # The next batch is augmented in a second thread while the network learns from this one.
            batches = ahead(batch_images, chunks, in_thread=augment_ahead and augments_ahead(config))
            bar = bar_factory(batches, steps_per_epoch, epoch, config.epochs) if bar_factory else batches
            for step, (idx, xb) in enumerate(bar):
                loss, nabla_w, nabla_b = network.backprop(xb, targets[idx], dropout_rng)
                progress_fraction = ((epoch - 1) * steps_per_epoch + step) / total_steps
                lr = optim.learning_rate(config.schedule, config.lr, progress_fraction, warmup=config.warmup)
                optimizer.step([*nabla_w, *nabla_b], lr)
                loss_sum += loss * len(idx)
                if bar_factory and step % 50 == 0:
                    bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2g}")  # type: ignore[union-attr]
            if not all(np.isfinite(p).all() for p in params):
                raise FloatingPointError(f"epoch {epoch}: the weights diverged (NaN/inf); lower the learning rate")
            seconds = round(time.perf_counter() - started, 2)
            record = {"epoch": epoch, "loss": round(loss_sum / n, 6), "seconds": seconds}
            if x_val is not None and labels_val is not None and len(x_val):
                record["val_accuracy"] = round(evaluate(network, x_val, labels_val).accuracy, 5)
            history.append(record)
            last_good = [p.copy() for p in params]
            if on_epoch:
                on_epoch(record)
    except KeyboardInterrupt:
        for p, good in zip(params, last_good):
            p[...] = good
        return network, history, True
    return network, history, False


def copy_parameters(source: Network | ConvNet, target: Network | ConvNet) -> None:
    """Copy ``source``'s weights and biases into ``target``'s; ValueError if the two are not the same network."""
    mine, theirs = [*target.weights, *target.biases], [*source.weights, *source.biases]
    same = source.kind == target.kind and [p.shape for p in mine] == [p.shape for p in theirs]
    if not same or (source.activations, source.cost) != (target.activations, target.cost):
        was = f"{source.kind} of layers {source.sizes} ({', '.join(source.activations)}; {source.cost})"
        raise ValueError(f"cannot start from a {was}: this config trains a {target.kind} of layers {target.sizes} "
                         f"({', '.join(target.activations)}; {target.cost})")
    for p, q in zip(mine, theirs):
        p[...] = q


def starting_network(path: Path, kind: str) -> tuple[Network | ConvNet, dict[str, Any]]:
    """The network of kind ``kind`` in a weights file, and its metadata: the file's own network, or the one of
    that kind in an averaged model (``model.combine``). Raise WeightsError if there is none, or more than one."""
    inside = [(net, meta) for net, meta, _ in members(path)]
    if len(inside) == 1:
        return inside[0]  # whatever its kind: copy_parameters says why it does not fit
    found = [(net, meta) for net, meta in inside if net.kind == kind]
    if len(found) != 1:
        raise WeightsError(f"{path}: averages {len(found)} networks of kind {kind}; give a file with one")
    return found[0]


def _progress_bar(batches: Iterable, total: int, epoch: int, epochs: int):
    from tqdm import tqdm

    return tqdm(batches, total=total, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False, dynamic_ncols=True)


def default_threads(config: Config) -> int | None:
    """BLAS threads when neither --threads nor a thread variable says: every usable core but the one the
    augmentation's helper thread needs (OpenBLAS's waiting threads spin on its core: on 2 cores the
    default preset's epoch took 2.42 s with 2 BLAS threads and the helper, 1.73 s with 1), else None
    (OpenBLAS's own choice)."""
    if any(os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")):
        return None
    if augments_ahead(config):
        return max(1, blas.usable_cores() - 1)
    return None


def started_from(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """What a run that went on from another file's network records of it: the file, and how that was trained."""
    keep = ("name", "training", "training_seconds", "test_accuracy", "started_from", "created_at")
    return {"path": str(path), **{key: meta[key] for key in keep if key in meta}}


def config_from_args(args: argparse.Namespace) -> Config:
    config = dataclasses.replace(PRESETS[args.preset])
    overrides = {
        key: value
        for key, value in vars(args).items()
        if value is not None and key in {f.name for f in dataclasses.fields(Config)}
    }
    for key in ("sizes", "channels"):
        if key in overrides:
            try:
                overrides[key] = [int(s) for s in overrides[key].split(",")]
            except ValueError:
                raise ValueError(f"--{key} takes whole numbers separated by commas, got {overrides[key]!r}") from None
    config = dataclasses.replace(config, **overrides)
    other = other_kind(config)
    misplaced = sorted(ONLY_FOR[other] & overrides.keys())
    if misplaced:
        options = ", ".join("--" + key.replace("_", "-") for key in misplaced)
        raise ValueError(f"{options}: only for a{'n' if other == 'mlp' else ''} {other}, not the {config.kind} "
                         f"of preset {args.preset!r}")
    return config


def recorded_settings(config: Config) -> dict[str, Any]:
    """The training settings saved with the weights: those that apply to the config's kind of network."""
    return {key: value for key, value in dataclasses.asdict(config).items() if key not in ONLY_FOR[other_kind(config)]}


def other_kind(config: Config) -> str:
    """The kind of network the config does not train, whose settings (ONLY_FOR) do not apply to it."""
    return "convnet" if config.kind == "mlp" else "mlp"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m model.train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--preset", choices=sorted(PRESETS), default="default")
    p.add_argument("--output", type=Path, help="weights file to write (default: model/weights/classic.npz, "
                   "build/default-mlp.npz or build/default-convnet.npz)")
    p.add_argument("--data-dir", help="folder with the MNIST files (default: $MNIST_DIR, else download)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in logs)")
    p.add_argument("--start-from", type=Path, metavar="PATH.npz",
                   help="go on training this file's network (of the config's kind and shape; in an averaged model, "
                        "its one network of that kind) instead of a fresh one; --epochs and --lr set the new run")
    p.add_argument(
        "--threads",
        type=int,
        help="BLAS threads for the matrix products (default: OPENBLAS_NUM_THREADS or OMP_NUM_THREADS if set, else "
        "every core but one when a helper thread augments the batches, else OpenBLAS's choice). Use 1 when other "
        "work shares the cores: waiting threads spin, and an epoch can take several times longer",
    )
    p.add_argument(
        "--extra-data",
        action="append",
        type=Path,
        metavar="PATH.sqlite3",
        help="also train on the drawings collected in this feedback database (or its .npz export); repeatable",
    )
    p.add_argument(
        "--extra-weight",
        type=int,
        default=5,
        help="how many times each collected drawing counts (it is repeated that often in the training set)",
    )
    g = p.add_argument_group("overrides (default: the preset's value)")
    g.add_argument("--name")
    g.add_argument("--sizes", help="comma-separated layer sizes of an MLP, e.g. 784,16,16,10")
    g.add_argument("--channels", help="comma-separated channels of a convnet's two convolutions, e.g. 16,32")
    g.add_argument("--hidden", type=int, help="neurons of a convnet's dense hidden layer")
    g.add_argument("--hidden-activation", choices=activations.HIDDEN_NAMES)
    g.add_argument("--output-activation", choices=activations.NAMES)
    g.add_argument("--cost", choices=costs.NAMES)
    g.add_argument("--init", choices=INITS)
    g.add_argument("--optimizer", choices=optim.OPTIMIZERS)
    g.add_argument("--momentum", type=float)
    g.add_argument("--lr", type=float, help="base learning rate")
    g.add_argument("--schedule", choices=optim.SCHEDULES)
    g.add_argument("--warmup", type=float)
    g.add_argument("--weight-decay", type=float)
    g.add_argument("--dropout", type=float)
    g.add_argument("--epochs", type=int)
    g.add_argument("--batch-size", type=int)
    g.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--holdout", type=int, help="training images kept aside for per-epoch validation")
    g.add_argument("--seed", type=int)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = config_from_args(args)
        if config.epochs < 1 or config.batch_size < 1 or config.lr <= 0 or not 0 <= config.holdout < 60000:
            raise ValueError("epochs, batch size and learning rate must be positive, holdout in [0, 60000)")
        fresh = build_network(config)  # checks the architecture before loading data
        if args.extra_weight < 1:
            raise ValueError(f"--extra-weight must be a whole number ≥ 1, got {args.extra_weight}")
        if args.threads is not None and args.threads < 1:
            raise ValueError(f"--threads must be a whole number ≥ 1, got {args.threads}")
        extra = load_extra(args.extra_data or [])
        start, start_meta = starting_network(args.start_from, config.kind) if args.start_from else (None, {})
        if start is not None:
            copy_parameters(start, fresh)  # says now, not after loading MNIST, if it does not fit
        data = mnist.load(args.data_dir)
    except (ValueError, mnist.MnistError, FeedbackError, WeightsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    output = args.output or OUTPUTS[args.preset]
    x_all, labels_all = mnist.as_vectors(data.train_images), data.train_labels
    if config.holdout >= len(x_all):
        print(f"error: --holdout {config.holdout} leaves none of the {len(x_all)} training images", file=sys.stderr)
        return 2
    split = len(x_all) - config.holdout
    x, labels, x_val, labels_val = x_all[:split], labels_all[:split], x_all[split:], labels_all[split:]
    shape = f"sizes {config.sizes}" if config.kind == "mlp" else f"convnet, channels {config.channels}"
    print(f"training {config.name}: {shape}, {len(x)} training images, {len(x_val)} held out")
    threads = blas.threads(args.threads or default_threads(config))
    if threads is None and args.threads is not None:
        print("  --threads: NumPy's BLAS is not OpenBLAS; set OMP_NUM_THREADS (or MKL_NUM_THREADS) instead")
    elif threads is not None:
        print(f"  {threads} BLAS thread{'s' if threads > 1 else ''}")
    if extra:
        x, labels = with_extra(x, labels, extra, args.extra_weight)  # after the split: never held out
        count = sum(len(s) for s in extra)
        print(f"  plus {count} collected drawings × {args.extra_weight} from {', '.join(str(s.source) for s in extra)}")

    def report(record: dict[str, float]) -> None:
        val = f", held-out accuracy {record['val_accuracy']:.2%}" if "val_accuracy" in record else ""
        print(f"epoch {record['epoch']:>3}: loss {record['loss']:.4f}{val}, {record['seconds']:.1f} s", flush=True)

    started = time.perf_counter()
    network, history, interrupted = train(
        config, x, labels, x_val, labels_val, not args.no_progress, report, start=start
    )
    if not history:
        print("interrupted before the first epoch finished; nothing saved", file=sys.stderr)
        return 130
    test = evaluate(network, mnist.as_vectors(data.test_images), data.test_labels)
    settings = recorded_settings(config)
    metadata = {
        "name": config.name,
        "training": settings,
        "history": history,
        "interrupted": interrupted,
        "training_seconds": round(time.perf_counter() - started, 1),
        "test_accuracy": round(test.accuracy, 5),
        "per_digit_accuracy": test.per_digit,
        "confusion_matrix": test.confusion,
        "data_sha256": data.sha256(),
        "extra_data": extra_metadata(network, extra, args.extra_weight) if extra else None,
        "started_from": started_from(args.start_from, start_meta) if start is not None else None,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    save(output, network, metadata)
    state = "interrupted; saved the last completed epoch" if interrupted else "done"
    print(f"{state}: test accuracy {test.accuracy:.2%}, {metadata['training_seconds']:.0f} s, wrote {output}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    raise SystemExit(main())
