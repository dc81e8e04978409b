"""Two versions of the service side by side: another commit (or settings) against the working tree.

    python -m bench.versus d8ecbb1                         # that commit against this checkout
    python -m bench.versus HEAD --env-a DIGITPAD_WORKERS=1 --env-b DIGITPAD_WORKERS=2

Both servers run at once (each idle while the other is measured); wrk alternates between them,
``--rounds`` times per endpoint and concurrency, and the medians are reported with each server's
CPU time per request, which other load on the machine changes far less than requests per second.
The commit is extracted with ``git archive`` into a temporary folder; it runs with this checkout's
virtual environment.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench import loadgen, machine
from bench.sample import ENCODING, ENCODINGS, data_url
from bench.server import REPO, Server, serve, wait_idle
from bench.service import medians


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__.split("\n\n")[0])
    p.add_argument("commit", help="the version to compare with the working tree, e.g. a commit or HEAD")
    p.add_argument("--env-a", action="append", default=[], metavar="NAME=VALUE", help="setting for the commit")
    p.add_argument("--env-b", action="append", default=[], metavar="NAME=VALUE", help="setting for the tree")
    p.add_argument("--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[1, 8, 64])
    p.add_argument("--endpoints", default="healthz,predict", help="healthz, predict (default model), classic")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--encoding", choices=list(ENCODINGS), default=ENCODING, help="how the drawing's PNG is written")
    args = p.parse_args(argv)
    if not loadgen.have_wrk():
        print(loadgen.INSTALL_HINT, file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="digitpad-versus-"))
    old = work / "tree"
    old.mkdir()
    archive = subprocess.run(["git", "archive", args.commit], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    drawing = data_url(3, encoding=args.encoding)
    bodies = {"predict": json.dumps({"image": drawing}), "classic": json.dumps({"image": drawing, "model": "classic"})}
    for name, text in bodies.items():
        (work / f"{name}.json").write_text(text)
    targets = {"healthz": ("/healthz", None), **{n: ("/api/predict", work / f"{n}.json") for n in bodies}}
    sides = {f"A {args.commit}": (old, args.env_a), "B working tree": (REPO, args.env_b)}
    print("machine:")
    described = {f"side {name}": ", ".join(env) or "defaults" for name, (_, env) in sides.items()}
    print(machine.describe({**described, "drawing": f"280×280 PNG as {args.encoding} writes it"}))
    with ExitStack() as stack:
        servers = {name: stack.enter_context(serve(dict(e.split("=", 1) for e in env), repo=tree))
                   for name, (tree, env) in sides.items()}
        for name, server in servers.items():
            print(f"{name}: start-up to healthy {server.startup_s:.2f} s, RSS {server.memory_mb()['rss_mb']:.0f} MB")
            loadgen.run_wrk(server.url + "/api/predict", 8, 1, work / "predict.json")  # warm-up
        print(f"\n{'endpoint':<8} {'conc.':>5} {'side':<22} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'server CPU ms/req':>17} {'errors':>6}")
        for endpoint in args.endpoints.split(","):
            path, body = targets[endpoint]
            for connections in args.concurrency:
                runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
                for round_ in range(args.rounds):
                    names = list(servers) if round_ % 2 == 0 else list(servers)[::-1]
                    for name in names:
                        runs[name].append(
                            measure(servers[name], list(servers.values()), path, body, connections, args.seconds)
                        )
                for name, results in runs.items():
                    m = medians(results)
                    print(f"{endpoint:<8} {connections:>5} {name:<22} {m['rps']:>7.0f} {m['p50_ms']:>8.2f} "
                          f"{m['p99_ms']:>8.2f} {m['cpu_ms']:>17.3f} {m['errors']:>6}")
    print(f"\nload average at the end: {machine.load_average()}")
    return 0


def measure(
    server: Server, servers: list[Server], path: str, body: Path | None, connections: int, seconds: float
) -> dict[str, float]:
    """One wrk run, with the server's CPU time per request; every server idle first."""
    for other in servers:
        wait_idle(other)
    before = server.cpu_seconds()
    result = loadgen.run_wrk(server.url + path, connections, seconds, body)
    result["cpu_ms"] = (server.cpu_seconds() - before) * 1000 / max(1, result["requests"])
    return result


if __name__ == "__main__":
    sys.exit(main())
