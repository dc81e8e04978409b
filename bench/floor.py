"""The ratio target's floor: the service side by side with itself, a prediction's own work taken out.

    python -m bench.floor                                # concurrency 64, 5 rounds
    python -m bench.floor --concurrency 8,64 --rounds 3

Two servers with the default settings run at once, each idle while the other is measured: ``python -m app``
and ``python -m bench.floor_app``, the same service whose lane skips decoding, preprocessing and the networks
(bench/floor_app.py). wrk alternates GET /healthz and POST /api/predict with the 280×280 sample drawing on each,
``--rounds`` times, and the medians are printed with each server's CPU time per request. Then what issue 7's
target measures, predict's requests/s over healthz's, for both: the floor's is the most that making decoding,
preprocessing and the networks cost nothing could give, and the CPU per prediction is split into a health
check's, the web stack's share beyond it, and the rest: the work the floor skips.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench import loadgen, machine
from bench.sample import data_url
from bench.server import serve
from bench.service import medians
from bench.versus import measure

SERVERS = {"service": "app", "floor": "bench.floor_app"}  # name → the module `python -m` runs
ENDPOINTS = ("healthz", "predict")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n\n")[0])
    p.add_argument("--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[64])
    p.add_argument("--seconds", type=float, default=3.0, help="length of each wrk run")
    p.add_argument("--rounds", type=int, default=5, help="alternations of the four runs per concurrency")
    args = p.parse_args(argv)
    if not loadgen.have_wrk():
        print(loadgen.INSTALL_HINT, file=sys.stderr)
        return 2
    print("machine:")
    print(machine.describe({"servers": "python -m app, python -m bench.floor_app; default settings"}))
    with ExitStack() as stack:
        body = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="digitpad-floor-"))) / "predict.json"
        body.write_text(json.dumps({"image": data_url(3)}))
        targets = {"healthz": ("/healthz", None), "predict": ("/api/predict", body)}
        servers = {name: stack.enter_context(serve(module=module)) for name, module in SERVERS.items()}
        for server in servers.values():
            loadgen.run_wrk(server.url + "/api/predict", 8, 1, body)  # warm-up
        print(f"\n{'server':<8} {'endpoint':<8} {'conc.':>5} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'server CPU ms/req':>17} {'errors':>6}")
        for connections in args.concurrency:
            runs: dict[tuple[str, str], list[dict[str, float]]] = {(n, e): [] for n in servers for e in ENDPOINTS}
            for round_ in range(args.rounds):
                for key in list(runs) if round_ % 2 == 0 else list(runs)[::-1]:
                    name, endpoint = key
                    path, payload = targets[endpoint]
                    runs[key].append(
                        measure(servers[name], list(servers.values()), path, payload, connections, args.seconds)
                    )
            m = {key: medians(results) for key, results in runs.items()}
            for (name, endpoint), figures in m.items():
                print(f"{name:<8} {endpoint:<8} {connections:>5} {figures['rps']:>7.0f} {figures['p50_ms']:>8.2f} "
                      f"{figures['p99_ms']:>8.2f} {figures['cpu_ms']:>17.3f} {figures['errors']:>6}")
            print_split(connections, m)
    print(f"\nload average at the end: {machine.load_average()}")
    return 0


def print_split(connections: int, m: dict[tuple[str, str], dict]) -> None:
    """predict ÷ healthz requests/s for both servers, and where a prediction's CPU time goes."""
    ratio = {name: m[name, "predict"]["rps"] / m[name, "healthz"]["rps"] for name in SERVERS}
    # The floor's own health check: the same process, measured in the same rounds, as the web stack's share.
    healthz, web = m["floor", "healthz"]["cpu_ms"], m["floor", "predict"]["cpu_ms"]
    whole = m["service", "predict"]["cpu_ms"]
    print(f"  at {connections}: predict ÷ healthz requests/s {ratio['service']:.2f} for the service, "
          f"{ratio['floor']:.2f} for the floor (the target: 0.50)")
    print(f"  CPU per prediction {whole:.3f} ms = a health check's {healthz:.3f} + the web stack's share beyond it "
          f"{web - healthz:.3f} + the rest, the work the floor skips (building the answer included) {whole - web:.3f}")


if __name__ == "__main__":
    sys.exit(main())
