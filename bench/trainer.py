"""Trainer benchmark: our NumPy trainer against PyTorch's CPU build, side by side in one run.

    python -m bench.trainer                  # both sides, 1 and 2 threads, 3 alternating rounds each
    python -m bench.trainer --threads 1 --images 20000 --rounds 2

The same network (784-512-256-10, ReLU, softmax + cross-entropy, Adam, batch 128), the same
data (MNIST's 60,000 training images, or random ones of the same shape when MNIST is not
found: the time does not depend on the values), the same thread count on both sides. The two
sides alternate, so load from elsewhere on the machine hits both alike; medians are reported.

Also: the achieved GFLOP/s of a training step against the machine's single-precision matrix
product peak (a large matrix product timed in the same run, at the same thread count), and the
augmentation's throughput against the time of an epoch. PyTorch is optional: ``pip install
torch==2.13.0`` (the CPU build; see docs/performance.md). Without it only NumPy is measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from bench import machine
from model import blas, mnist
from model.augment import Augmentation, augment
from model.train import AHEAD_MIN_BATCH, PRESETS, Config, augments_ahead, train

SIZES = [784, 512, 256, 10]
BATCH = 128
LR = 1e-3
REPO = Path(__file__).resolve().parent.parent
TARGET = 1.2  # NumPy epoch time / PyTorch epoch time
AUGMENT_SHARE = 0.25  # augmentation's share of an epoch's time, (with − without) / with, must be under this


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch = import_torch()
    extra = {"torch": f"{torch.__version__} ({torch_blas(torch)})" if torch else "not installed: NumPy side only"}
    print("machine:")
    print(machine.describe(extra))
    x, labels, source = training_data(args.images)
    print(f"\ndata: {len(x):,} images from {source}; network {SIZES}, ReLU, softmax + cross-entropy, "
          f"Adam (lr {LR}), batch {BATCH}")
    flops = step_flops(SIZES, BATCH)
    steps = -(-len(x) // BATCH)
    print(f"one training step: {flops / 1e9:.3f} GFLOP in matrix products ({steps} steps per epoch)")
    rows = []
    for threads in args.threads:
        blas.threads(threads)
        if torch:
            torch.set_num_threads(threads)
        print(f"\n--- {threads} thread(s): NumPy's OpenBLAS {blas.threads()}, "
              f"PyTorch {torch.get_num_threads() if torch else '-'}")
        peak = matmul_peak(torch)
        print("  peak: " + ", ".join(f"{name} {value:.1f} GFLOP/s" for name, value in peak.items()))
        times: dict[str, list[float]] = {"numpy": [], "torch": []}
        for round_ in range(args.rounds):
            sides = ["numpy", "torch"] if torch else ["numpy"]
            for side in sides if round_ % 2 == 0 else sides[::-1]:
                seconds = numpy_epoch(x, labels) if side == "numpy" else torch_epoch(torch, x, labels)
                times[side].append(seconds)
                print(f"  round {round_ + 1}: {side:<5} epoch {seconds:6.2f} s", flush=True)
        row = summarise(threads, times, flops * steps, max(peak.values()))
        row["augment_rate"] = augmentation_rate()
        subset = x[: args.preset_images], labels[: args.preset_images]
        row["augmented"] = {
            f"this benchmark's network ({'-'.join(map(str, SIZES))}, batch {BATCH}, default settings)":
                augmented_epochs(benchmark_config(), x, labels, args.rounds),
            **{f"{name} preset ({'-'.join(map(str, PRESETS[name].sizes))}, batch {PRESETS[name].batch_size}, "
               f"its settings; {len(subset[0]):,} images)": augmented_epochs(PRESETS[name], *subset, args.rounds)
               for name in ("default", "classic")},
        }
        rows.append(row)
    print_summary(rows)
    print_augmentation(rows)
    print(f"\nload average at the end: {machine.load_average()}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.trainer", description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=lambda s: [int(t) for t in s.split(",")], default=[1, 2],
                   help="comma-separated thread counts, each used by both sides (default 1,2)")
    p.add_argument("--rounds", type=int, default=3, help="epochs per side and thread count, alternating")
    p.add_argument("--images", type=int, default=60_000, help="images per epoch (at most 60,000)")
    p.add_argument("--preset-images", type=int, default=10_000,
                   help="images per epoch of the presets, trained with and without augmentation")
    return p.parse_args(argv)


def import_torch():  # noqa: ANN201 - torch is optional, so no annotation can name its module type
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_blas(torch) -> str:  # noqa: ANN001
    """PyTorch's BLAS, oneDNN version and vector unit, from its build configuration."""
    config = torch.__config__.show()
    patterns = (r"BLAS_INFO=(\w+)", r"MKL-DNN (v[\d.]+)", r"CPU capability usage: (\w+)")
    found = [re.search(pattern, config) for pattern in patterns]
    blas, dnn, cpu = (m.group(1) if m else "?" for m in found)
    return f"BLAS {blas}, oneDNN {dnn}, {cpu}"


def training_data(images: int) -> tuple[np.ndarray, np.ndarray, str]:
    """MNIST's training images as (n, 784) float32 and their labels; random ones if MNIST is absent."""
    for folder in (os.environ.get("MNIST_DIR"), REPO.parent / "shared" / "data" / "mnist"):
        if folder and Path(folder).is_dir():
            try:
                data = mnist.load(folder, download=False)
            except mnist.MnistError:
                continue
            return mnist.as_vectors(data.train_images)[:images], data.train_labels[:images], f"MNIST ({folder})"
    rng = np.random.default_rng(0)
    x = rng.random((min(images, 60_000), 784), dtype=np.float32)
    return x, rng.integers(0, 10, len(x)), "random data (MNIST not found; set MNIST_DIR)"


def step_flops(sizes: list[int], batch: int) -> float:
    """Multiply-adds × 2 of one step's matrix products: forward, weight gradients, and the gradients
    passed back to every layer but the first (the input needs none). Element-wise work is not counted."""
    layers = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(2 * batch * n_in * n_out for n_in, n_out in layers)
    backward_inputs = sum(2 * batch * n_in * n_out for n_in, n_out in layers[1:])
    return 2 * forward + backward_inputs  # forward + weight gradients (same size) + input gradients


def benchmark_config() -> Config:
    """The benchmark's network and recipe as a model.train configuration (one epoch, no augmentation)."""
    return dataclasses.replace(
        Config(), sizes=SIZES, hidden_activation="relu", output_activation="softmax", cost="cross_entropy",
        init="he", optimizer="adam", lr=LR, schedule="constant", epochs=1, batch_size=BATCH, augment=False,
    )


def numpy_epoch(x: np.ndarray, labels: np.ndarray, config: Config | None = None, ahead: bool = True) -> float:
    """Seconds for one epoch of model.train.train (what `python -m model.train` runs), at this benchmark's threads."""
    config = dataclasses.replace(config or benchmark_config(), epochs=1)
    _, history, _ = train(config, x, labels, progress=False, augment_ahead=ahead)
    return history[0]["seconds"]


def torch_epoch(torch, x: np.ndarray, labels: np.ndarray) -> float:  # noqa: ANN001
    """Seconds for the same epoch in idiomatic PyTorch: shuffled batches, forward, loss, backward, Adam."""
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
    started = time.perf_counter()
    order = torch.randperm(len(inputs))
    loss_sum = 0.0
    for start in range(0, len(inputs), BATCH):
        idx = order[start : start + BATCH]
        loss = nn.functional.cross_entropy(net(inputs[idx]), targets[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(idx)  # as our trainer does: the loss of every step is read
    return time.perf_counter() - started


def matmul_peak(torch, side: int = 2048, repeats: int = 5) -> dict[str, float]:  # noqa: ANN001
    """Best GFLOP/s of a float32 (side × side) matrix product, in NumPy and in PyTorch."""
    rng = np.random.default_rng(0)
    a, b = rng.random((side, side), dtype=np.float32), rng.random((side, side), dtype=np.float32)
    flops = 2 * side**3
    peak = {"NumPy sgemm": flops / best_time(lambda: a @ b, repeats) / 1e9}
    if torch:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        peak["PyTorch sgemm"] = flops / best_time(lambda: ta @ tb, repeats) / 1e9
    return peak


def best_time(function, repeats: int) -> float:  # noqa: ANN001
    function()  # warm-up: threads started, pages touched
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def summarise(threads: int, times: dict[str, list[float]], epoch_flops: float, peak: float) -> dict:
    row = {"threads": threads, "numpy_s": statistics.median(times["numpy"]), "peak": peak}
    row["numpy_gflops"] = epoch_flops / row["numpy_s"] / 1e9
    if times["torch"]:
        row["torch_s"] = statistics.median(times["torch"])
        row["torch_gflops"] = epoch_flops / row["torch_s"] / 1e9
        row["ratio"] = row["numpy_s"] / row["torch_s"]
    return row


def print_summary(rows: list[dict]) -> None:
    print("\nepoch time (median of the rounds) and achieved GFLOP/s of the training steps' matrix products")
    print(f"{'threads':>7} | {'NumPy s':>8} {'GFLOP/s':>8} {'of peak':>7} | {'PyTorch s':>9} {'GFLOP/s':>8} "
          f"{'of peak':>7} | {'NumPy/PyTorch':>13} | {'peak GFLOP/s':>12}")
    for r in rows:
        torch_part = (f"{r['torch_s']:>9.2f} {r['torch_gflops']:>8.1f} {r['torch_gflops'] / r['peak']:>7.0%}"
                      if "torch_s" in r else f"{'-':>9} {'-':>8} {'-':>7}")
        ratio = (f"{r['ratio']:>13.2f}" + (" met" if r["ratio"] <= TARGET else " NOT met")) if "ratio" in r else "-"
        numpy_part = f"{r['numpy_s']:>8.2f} {r['numpy_gflops']:>8.1f} {r['numpy_gflops'] / r['peak']:>7.0%}"
        print(f"{r['threads']:>7} | {numpy_part} | {torch_part} | {ratio} | {r['peak']:>12.1f}")
    print(f"target: NumPy/PyTorch ≤ {TARGET}")


def augmentation_rate(batch: int = BATCH, aug: Augmentation | None = None, images: int = 10_000) -> float:
    """Images per second through model.augment.augment, in batches of ``batch`` (default settings by default)."""
    rng = np.random.default_rng(0)
    x = rng.random((batch, 28, 28), dtype=np.float32)
    aug = aug or Augmentation()
    augment(x, rng, aug)
    calls = max(1, images // batch)
    started = time.perf_counter()
    for _ in range(calls):
        augment(x, rng, aug)
    return calls * batch / (time.perf_counter() - started)


def augmented_epochs(config: Config, x: np.ndarray, labels: np.ndarray, rounds: int) -> dict[str, float]:
    """Median seconds of one epoch of ``config`` with its augmentation made ahead in model.train's helper
    thread (what `python -m model.train` does), made in the training thread, and without augmentation,
    alternating; and the augmentation's own rate (images/s) at the config's batch size."""
    augmented, plain = dataclasses.replace(config, augment=True), dataclasses.replace(config, augment=False)
    variants = {"inline": (augmented, False), "none": (plain, True)}
    if augments_ahead(augmented):  # smaller batches are augmented in the training thread anyway
        variants["ahead"] = (augmented, True)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (variant, ahead) in variants.items():
            times[name].append(numpy_epoch(x, labels, variant, ahead))
    result = {name: statistics.median(seconds) for name, seconds in times.items()}
    result["rate"] = augmentation_rate(config.batch_size, config.augmentation, images=len(x) // 2)
    return result


def print_augmentation(rows: list[dict]) -> None:
    print(f"\naugmentation (model.augment); target: under {AUGMENT_SHARE:.0%} of an epoch's time, i.e. "
          f"(epoch with it − epoch without) / epoch with it")
    for r in rows:
        print(f"  {threads_label(r['threads'])}: {r['augment_rate']:,.0f} images/s with the default settings in "
              f"batches of {BATCH}")
        for name, e in r["augmented"].items():
            inline = (e["inline"] - e["none"]) / e["inline"]
            line = f"    {name}: epoch {e['none']:.2f} s without augmentation, "
            if "ahead" in e:
                added = (e["ahead"] - e["none"]) / e["ahead"]
                line += (f"{e['ahead']:.2f} s with it made ahead ({added:.0%} of it: {verdict(added)}), "
                         f"{e['inline']:.2f} s with it in the training thread ({inline:.0%})")
            else:
                line += (f"{e['inline']:.2f} s with it ({inline:.0%} of it: {verdict(inline)}; batches under "
                         f"{AHEAD_MIN_BATCH} are augmented in the training thread)")
            print(f"{line}; {e['rate']:,.0f} images/s")


def verdict(added: float) -> str:
    return "met" if added < AUGMENT_SHARE else "NOT met"


def threads_label(threads: int) -> str:
    return f"{threads} thread" + ("s" if threads > 1 else "")


if __name__ == "__main__":
    sys.exit(main())
