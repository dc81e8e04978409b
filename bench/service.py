"""HTTP benchmark of the service: POST /api/predict side by side with GET /healthz, on one server, in one run.

    python -m bench.service                       # starts `python -m app` with its default settings
    python -m bench.service --env DIGITPAD_WORKERS=1 --env DIGITPAD_LOG_LEVEL=warning
    python -m bench.service --url http://127.0.0.1:8000 --no-soak   # a server already running (e.g. the container)
    python -m bench.service --screens             # only predict at 8, drawings from common screens' canvases
    python -m bench.service --encodings           # only predict at 8, the drawing as each browser writes its PNG

The load generator is wrk (Debian's ``wrk``), one thread, keep-alive connections, on loopback.
At each concurrency the two endpoints alternate, ``--rounds`` times, for ``--seconds`` each, and
the medians are reported, so a burst of load from elsewhere on the machine hits both sides alike.
The request is a realistic drawing: a 280×280 canvas PNG data URL, written as Chromium writes it (bench/sample.py).

Also measured: /api/predict/batch per item against single requests; memory (RSS and PSS of the
server's processes) after start-up and over 20,000 more requests; start-up time to healthy.

With ``--screens``, only predict at concurrency 8, alternating the same drawing on the canvases of
common screens (bench.sample.SCREENS: what the page sent before it drew its image at 280×280). With
``--encodings``, the same, for the 280×280 drawing written as each of bench.sample.ENCODINGS writes a PNG.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

from bench import loadgen, machine
from bench.sample import ENCODINGS, SCREENS, data_url
from bench.server import Server, healthy, serve, wait_idle

BATCH = 32  # drawings per /api/predict/batch request
TARGET_RATIO = 0.5  # predict's requests/s at concurrency 64 ≥ this × healthz's
TARGET_P99_MS = 25.0  # predict's p99 at concurrency 8


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not loadgen.have_wrk():
        print(loadgen.INSTALL_HINT, file=sys.stderr)
        return 2
    env = dict(item.split("=", 1) for item in args.env)
    print("machine:")
    server_label = f"{args.url} (already running)" if args.url else ", ".join(args.env) or "defaults (python -m app)"
    print(machine.describe({"server": server_label}))
    work = Path(tempfile.mkdtemp(prefix="digitpad-bench-"))
    bodies = write_bodies(work)
    if args.url:
        if not healthy(args.url):
            print(f"{args.url}/healthz does not answer 200", file=sys.stderr)
            return 1
        context = nullcontext(None)
    else:
        context = serve(env)
    with context as server:
        url = args.url or server.url
        memory: list[tuple[str, dict[str, float]]] = []
        if server:
            print(f"\nstart-up to healthy: {server.startup_s:.2f} s")
            memory.append(("after start-up", server.memory_mb()))
        loadgen.run_wrk(url + "/api/predict", 8, 2, bodies["predict"])  # warm-up: caches, thread pools
        loadgen.run_wrk(url + "/healthz", 8, 1)
        if args.screens or args.encodings:
            if args.screens:
                drawings = {name: data_url(3, side) for name, side in SCREENS.items()}
            else:
                drawings = {f"280×280, written as {name} writes it": data_url(3, encoding=name) for name in ENCODINGS}
            print_drawings(compare_drawings(url, work, drawings, args))
            return 0
        sweep = {c: compare(url, bodies, c, args, server) for c in args.concurrency}
        print_sweep(sweep)
        print_batch(compare_batch(url, bodies, args))
        if server and args.soak:
            memory.append(("after the runs above", server.memory_mb()))
            for half in (1, 2):
                result = loadgen.run_wrk(url + "/api/predict", 8, 120, bodies["predict"], limit=args.soak // 2)
                memory.append((f"+{half * args.soak // 2:,} predict requests (errors {result['errors']})",
                               server.memory_mb()))
        if memory:
            print_memory(memory)
    verdict = targets(sweep)
    print(f"\nload average at the end: {machine.load_average()}")
    if args.json:
        args.json.write_text(json.dumps({"sweep": sweep, "memory": memory, "targets": verdict}, indent=1))
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.service", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="benchmark this running server (loopback) instead of starting one")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra setting for the server")
    p.add_argument("--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[1, 8, 64])
    p.add_argument("--seconds", type=float, default=3.0, help="length of each wrk run")
    p.add_argument("--rounds", type=int, default=3, help="alternations of the two endpoints per concurrency")
    p.add_argument("--soak", type=int, default=20_000, help="predict requests for the memory check (0: skip)")
    p.add_argument("--no-soak", dest="soak", action="store_const", const=0)
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--screens", action="store_true", help="only predict at 8, on common screens' canvases")
    only.add_argument("--encodings", action="store_true", help="only predict at 8, as each browser writes the PNG")
    return p.parse_args(argv)


def write_bodies(folder: Path) -> dict[str, Path]:
    """The request bodies: one drawing for /api/predict, BATCH of them for /api/predict/batch."""
    image = data_url(3)
    bodies = {
        "predict": {"image": image},
        "batch": {"items": [{"image": image}] * BATCH},
    }
    paths = {}
    for name, body in bodies.items():
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(body))
    return paths


def compare(
    url: str, bodies: dict[str, Path], connections: int, args: argparse.Namespace, server: Server | None
) -> dict[str, dict]:
    """healthz and predict alternately at one concurrency; the medians of each side's runs.

    With a server of our own, also its CPU time per request (``cpu_ms``)."""
    runs: dict[str, list[dict[str, float]]] = {"healthz": [], "predict": []}
    for round_ in range(args.rounds):
        order = ("healthz", "predict") if round_ % 2 == 0 else ("predict", "healthz")
        for name in order:
            target, body = (url + "/healthz", None) if name == "healthz" else (url + "/api/predict", bodies["predict"])
            if server:
                wait_idle(server)  # an overloaded server may still be answering the previous run's requests
            before = server.cpu_seconds() if server else 0.0
            result = loadgen.run_wrk(target, connections, args.seconds, body)
            if server:
                result["cpu_ms"] = (server.cpu_seconds() - before) * 1000 / max(1, result["requests"])
            runs[name].append(result)
    return {name: medians(results) for name, results in runs.items()}


def compare_drawings(url: str, folder: Path, drawings: dict[str, str], args: argparse.Namespace) -> dict[str, dict]:
    """predict at concurrency 8 for each of ``drawings`` (name → data URL), alternating; the medians of each."""
    bodies = {}
    for index, (name, image) in enumerate(drawings.items()):
        bodies[name] = folder / f"drawing-{index}.json"
        bodies[name].write_text(json.dumps({"image": image}))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in drawings}
    for round_ in range(args.rounds):
        for name in drawings if round_ % 2 == 0 else reversed(drawings):
            runs[name].append(loadgen.run_wrk(url + "/api/predict", 8, args.seconds, bodies[name]))
    return {name: medians(results) for name, results in runs.items()}


def print_drawings(drawings: dict[str, dict]) -> None:
    print("\npredict at concurrency 8, each drawing in turn (medians of the alternating runs)")
    print(f"{'drawing':<45} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'÷ the first req/s':>18} | errors")
    base = next(iter(drawings.values()))["rps"]
    for name, result in drawings.items():
        print(f"{name:<45} {result['rps']:>7.0f} {result['p50_ms']:>7.2f} {result['p99_ms']:>7.2f} "
              f"{result['rps'] / base:>18.2f} | {result['errors']}")


def compare_batch(url: str, bodies: dict[str, Path], args: argparse.Namespace) -> dict[str, dict]:
    """Single predictions against batches of BATCH, one connection, alternately; figures per drawing."""
    runs: dict[str, list[dict[str, float]]] = {"single": [], "batch": []}
    for round_ in range(args.rounds):
        for name in ("single", "batch") if round_ % 2 == 0 else ("batch", "single"):
            path, body = ("/api/predict", "predict") if name == "single" else ("/api/predict/batch", "batch")
            runs[name].append(loadgen.run_wrk(url + path, 1, args.seconds, bodies[body]))
    result = {name: medians(results) for name, results in runs.items()}
    for name, items in (("single", 1), ("batch", BATCH)):
        result[name]["ms_per_item"] = 1000 / (result[name]["rps"] * items)
    return result


def medians(results: list[dict[str, float]]) -> dict[str, float]:
    keys = ("rps", "p50_ms", "p99_ms", "cpu_ms")
    summary = {key: statistics.median(r[key] for r in results) for key in keys if key in results[0]}
    summary["wrk_cpu_ms"] = statistics.median(r["client_cpu_s"] * 1000 / max(1, r["requests"]) for r in results)
    summary["errors"] = sum(r["errors"] for r in results)
    summary["requests"] = sum(r["requests"] for r in results)
    summary["runs_rps"] = [round(r["rps"]) for r in results]
    return summary


def print_sweep(sweep: dict[int, dict[str, dict]]) -> None:
    print("\nrequests/s and latency (medians of the alternating runs; wrk, 1 thread, keep-alive)")
    print(f"{'conc.':>5} | {'healthz req/s':>13} {'p50 ms':>7} {'p99 ms':>7} | "
          f"{'predict req/s':>13} {'p50 ms':>7} {'p99 ms':>7} | {'predict/healthz':>15} | errors")
    for c, sides in sweep.items():
        h, p = sides["healthz"], sides["predict"]
        print(f"{c:>5} | {h['rps']:>13.0f} {h['p50_ms']:>7.2f} {h['p99_ms']:>7.2f} | "
              f"{p['rps']:>13.0f} {p['p50_ms']:>7.2f} {p['p99_ms']:>7.2f} | {p['rps'] / h['rps']:>15.2f} | "
              f"{h['errors'] + p['errors']}")
    for c, sides in sweep.items():
        print(f"  runs at {c}: healthz {sides['healthz']['runs_rps']}, predict {sides['predict']['runs_rps']} req/s")
    print("CPU time per request (ms; medians; the server's processes, and wrk's own):")
    for c, sides in sweep.items():
        cpu = ", ".join(f"{name} server {s['cpu_ms']:.3f}" for name, s in sides.items() if "cpu_ms" in s)
        print(f"  at {c}: {cpu or 'server not ours'}; wrk: healthz {sides['healthz']['wrk_cpu_ms']:.3f}, "
              f"predict {sides['predict']['wrk_cpu_ms']:.3f}")


def print_batch(batch: dict[str, dict]) -> None:
    single, many = batch["single"], batch["batch"]
    print(f"\n/api/predict/batch of {BATCH} against single requests (1 connection):")
    print(f"  single: {single['ms_per_item']:.2f} ms per drawing ({single['rps']:.0f} req/s)")
    print(f"  batch:  {many['ms_per_item']:.2f} ms per drawing ({many['rps']:.1f} req/s of {BATCH}); "
          f"batch/single = {many['ms_per_item'] / single['ms_per_item']:.2f}")


def print_memory(memory: list[tuple[str, dict[str, float]]]) -> None:
    print("\nmemory of the server's processes (RSS summed; PSS splits shared pages):")
    for label, m in memory:
        print(f"  {label:<44} RSS {m['rss_mb']:7.1f} MB   PSS {m['pss_mb']:7.1f} MB   "
              f"(processes: {', '.join(f'{r} MB' for r in m['rss_each_mb'])})")


def targets(sweep: dict[int, dict[str, dict]]) -> dict[str, str]:
    verdict = {}
    if 64 in sweep:
        ratio = sweep[64]["predict"]["rps"] / sweep[64]["healthz"]["rps"]
        verdict["predict ≥ 50% of healthz req/s at 64"] = f"{ratio:.2f} {'met' if ratio >= TARGET_RATIO else 'NOT met'}"
    if 8 in sweep:
        p99 = sweep[8]["predict"]["p99_ms"]
        verdict["predict p99 ≤ 25 ms at 8"] = f"{p99:.1f} ms {'met' if p99 <= TARGET_P99_MS else 'NOT met'}"
    print("\ntargets:")
    for name, value in verdict.items():
        print(f"  {name}: {value}")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
