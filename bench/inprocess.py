"""In-process cost of one drawing: each step of a prediction, median and p99, without HTTP.

    python -m bench.inprocess                 # 2,000 runs of each step
    python -m bench.inprocess --runs 500

The drawing is a realistic 280×280 canvas PNG data URL (bench/sample.py). The steps are timed
in the order a request runs them, alternating, so load from elsewhere hits them alike. The BLAS
runs one thread, as in the service (see app/__init__.py).

Further tables time the whole answer for the same drawing on the canvases a screen gives the pad (its CSS
size times devicePixelRatio), side by side with the 280×280 the page sends whatever the screen; for the
280×280 drawing written as each browser writes a PNG (bench.sample.ENCODINGS); and a phone's photo of a
digit (a 3000×2250 JPEG) decoded whole against decoded at reduced scale.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

import numpy as np

from app.images import image_bytes, open_image
from app.inference import answer, answer_batch, predict
from app.preprocess import WORK_SIDE, preprocess
from app.registry import load_models
from app.schemas import BatchRequest, PredictRequest
from app.settings import Settings
from bench import machine
from bench.sample import ENCODINGS, SCREENS, data_url, photo_jpeg
from model import blas
from model.average import view_outputs

BATCH = 32


def describe(network: object) -> str:
    """A network's name in the table: its kind and shape, e.g. "mlp 784-1024-1024-10" or "convnet 16, 32"."""
    if getattr(network, "kind", "") == "average":
        return " + ".join(describe(net) for net in network.networks)  # type: ignore[attr-defined]
    if getattr(network, "kind", "") == "convnet":
        return "convnet " + ", ".join(map(str, network.channels))  # type: ignore[attr-defined]
    return "mlp " + "-".join(map(str, network.sizes))  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=2000)
    args = p.parse_args(argv)
    blas.threads(1)  # as in the service
    print("machine:")
    print(machine.describe())
    registry = load_models(Settings().models_dir, "default")
    url = data_url(3)
    body = json.dumps({"image": url})
    data = image_bytes(url)
    image = open_image(data)
    prepared = preprocess(image)
    x = prepared.pixels[None]  # (1, 784)
    default, classic = registry.get("default"), registry.get("classic")
    batch_body = json.dumps({"items": [{"image": url}] * BATCH})
    steps: dict[str, Callable[[], object]] = {
        "parse the JSON body (pydantic)": lambda: PredictRequest.model_validate_json(body),
        "data URL → PNG bytes (base64)": lambda: image_bytes(url),
        "PNG → pixels (decode: libspng for a canvas)": lambda: open_image(data),
        "pixels → 28×28 (preprocess)": lambda: preprocess(image),
        f"network, default ({describe(default.model.network)})": lambda: default.model.network.forward(x),
        **{
            f"  of which {describe(net)}" + (f", 5 views (±{shift} px)" if shift else ""): (
                lambda net=net, shift=shift: view_outputs(net, x, shift)
            )
            for net, shift in zip(getattr(default.model.network, "networks", []),
                                  getattr(default.model.network, "shifts", []))
        },
        f"network, classic ({describe(classic.model.network)})": lambda: classic.model.network.forward(x),
        "network + answer object, default": lambda: predict(default, [prepared], [False]),
        "all of it, default (app.inference.answer)": lambda: answer(default, PredictRequest.model_validate_json(body)),
        f"batch of {BATCH}, per drawing (answer_batch)": lambda: answer_batch(
            registry, BatchRequest.model_validate_json(batch_body)
        ),
    }
    times = {name: [] for name in steps}
    for step in steps.values():  # warm-up
        step()
    batch_step = f"batch of {BATCH}, per drawing (answer_batch)"
    for run in range(args.runs):
        for name, step in steps.items():
            if name == batch_step and run % 10:  # a batch is 32 drawings: one run in ten is plenty
                continue
            started = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - started)
    runs = {name: np.array(values) * 1000 for name, values in times.items()}
    runs[batch_step] /= BATCH
    print(f"\none drawing: {len(data):,}-byte PNG, {image.size[0]}×{image.size[1]} {image.mode}; {args.runs} runs "
          f"({args.runs // 10} of the batch)")
    print(f"{'step':<58} {'median ms':>9} {'p99 ms':>8} {'min ms':>8}")
    for name, values in runs.items():
        print(f"{name:<58} {np.median(values):>9.3f} {np.percentile(values, 99):>8.3f} {values.min():>8.3f}")
    runs_each = max(args.runs // 10, 20)
    whole_answers(default, "the same digit on each canvas a screen gives the pad", "canvas",
                  {name: data_url(3, side) for name, side in SCREENS.items()}, runs_each)
    whole_answers(default, "the same 280×280 drawing written as each browser writes a PNG", "PNG written as",
                  {name: data_url(3, encoding=name) for name in ENCODINGS}, runs_each)
    photo(max(args.runs // 100, 10))
    print(f"\nload average at the end: {machine.load_average()}")
    return 0


def photo(runs: int) -> None:
    """A 3000×2250 JPEG photo → 28×28: decoded whole, against at the reduced scale the service uses, alternating."""
    data = photo_jpeg()
    ms = alternately({
        "decoded whole (open_image(data))": lambda: preprocess(open_image(data)),
        f"at reduced scale (open_image(data, fit={WORK_SIDE}))": lambda: preprocess(open_image(data, WORK_SIDE)),
    }, runs)
    print(f"\na phone's photo, {len(data):,}-byte 3000×2250 JPEG → 28×28 (decode + preprocess); {runs} runs")
    print(f"{'way':<58} {'median ms':>9} {'max ms':>8} {'min ms':>8}")
    for name, values in ms.items():
        print(f"{name:<58} {np.median(values):>9.3f} {values.max():>8.3f} {values.min():>8.3f}")


def whole_answers(entry: object, title: str, column: str, urls: dict[str, str], runs: int) -> None:
    """The whole answer (app.inference.answer) for each of ``urls`` (name → data URL), alternating."""
    bodies = {name: json.dumps({"image": url}) for name, url in urls.items()}
    ms = alternately({
        name: lambda body=body: answer(entry, PredictRequest.model_validate_json(body)) for name, body in bodies.items()
    }, runs)
    base = np.median(next(iter(ms.values())))
    print(f"\nthe whole answer, default model, for {title}; {runs} runs")
    print(f"{column:<45} {'data URL':>10} {'median ms':>9} {'p99 ms':>8} {'÷ first':>9}")
    for name, values in ms.items():
        print(f"{name:<45} {len(urls[name]):>8,} B {np.median(values):>9.3f} {np.percentile(values, 99):>8.3f} "
              f"{np.median(values) / base:>9.2f}")


def alternately(ways: dict[str, Callable[[], object]], runs: int) -> dict[str, np.ndarray]:
    """Each way once to warm up, then all of them in turn ``runs`` times: the milliseconds of each run, by way."""
    for way in ways.values():
        way()
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(runs):
        for name, way in ways.items():
            started = time.perf_counter()
            way()
            times[name].append(time.perf_counter() - started)
    return {name: np.array(values) * 1000 for name, values in times.items()}


if __name__ == "__main__":
    sys.exit(main())
