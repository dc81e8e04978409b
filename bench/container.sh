#!/usr/bin/env bash
# The HTTP benchmark (bench/service.py) against the container: `make bench-container`.
#
# Starts dockerd if no engine answers (and stops that one, by PID, at the end), builds the local Debian
# base image (docker/build_base_image.sh, cached) and the image with the legacy builder, as
# `make docker-test` does; prints the image's size; runs it with its default settings on a loopback
# port; measures the time to healthy and its memory before and after the benchmark; then runs the
# benchmark again with the container on the host's network, without Docker's port-publishing proxy.
# Exits 0 with a SKIP line where no Docker engine can run here.
#
# Environment: BENCH_IMAGE (default digitpad-bench), BENCH_BASE_IMAGE (default localbase:bookworm),
# BENCH_ARGS (extra arguments for bench/service.py, e.g. "--seconds 2 --rounds 2").
set -uo pipefail
cd "$(dirname "$0")/.."

IMAGE=${BENCH_IMAGE:-digitpad-bench}
BASE_IMAGE=${BENCH_BASE_IMAGE:-localbase:bookworm}
PY=${PY:-.venv/bin/python}
work=$(mktemp -d)
dockerd_pid=
container=

say() { printf '[bench-container] %s\n' "$*"; }
cleanup() {
  [ -n "$container" ] && docker rm -f "$container" >/dev/null 2>&1
  if [ -n "$dockerd_pid" ]; then
    say "stopping the dockerd this script started (pid $dockerd_pid)"
    kill -TERM "$dockerd_pid" 2>/dev/null
    for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
skip() { echo "SKIP bench-container: $*"; exit 0; }

command -v wrk >/dev/null || { echo "bench-container needs wrk: apt-get install -y wrk"; exit 2; }
command -v docker >/dev/null || skip "no docker client (make docker-test installs docker.io)"
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null || skip "no Docker engine answers and this user cannot start one"
  say "starting dockerd in the background"
  dockerd >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -5 "$work/dockerd.log"; kill -0 "$dockerd_pid" 2>/dev/null || dockerd_pid=; skip "dockerd did not start"; }
fi
export DOCKER_BUILDKIT=0

if [ "$BASE_IMAGE" = localbase:bookworm ]; then
  BASE_TAG=$BASE_IMAGE docker/build_base_image.sh >"$work/base.log" 2>&1 || { tail -20 "$work/base.log"; exit 1; }
fi
say "building $IMAGE on $BASE_IMAGE"
docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" . >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
size=$(docker image inspect --format '{{.Size}}' "$IMAGE")
base=$(docker image inspect --format '{{.Size}}' "$BASE_IMAGE")
say "image size: $(mb "$size") ($(mb "$base") base + $(mb $((size - base))) added)"

port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
container=digitpad-bench-$$
t0=$(date +%s.%N)
docker run -d --name "$container" -p "127.0.0.1:$port:8000" "$IMAGE" >/dev/null || exit 1
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do
  [ "$(docker inspect --format '{{.State.Running}}' "$container")" = true ] || { docker logs "$container" | tail; exit 1; }
  sleep 0.05
done
say "docker run to healthy: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
memory() { docker stats --no-stream --format '{{.MemUsage}}' "$container"; }
say "memory after start-up: $(memory)"
# shellcheck disable=SC2086  # BENCH_ARGS is a list of arguments
$PY -m bench.service --url "http://127.0.0.1:$port" --no-soak ${BENCH_ARGS:-}
say "memory after the benchmark: $(memory)"

# The same image on the host's network: no port-publishing proxy (docker-proxy) between wrk and the server,
# as behind a reverse proxy on the container network. The proxy's CPU comes out of the same cores.
docker rm -f "$container" >/dev/null
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if docker run -d --name "$container" --network host -e DIGITPAD_HOST=127.0.0.1 -e "DIGITPAD_PORT=$port" \
    "$IMAGE" >/dev/null; then
  deadline=$((SECONDS + 60))  # Docker Desktop or rootless Docker run it, but not on this host's loopback
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || [ $SECONDS -ge $deadline ]; do
    [ "$(docker inspect --format '{{.State.Running}}' "$container")" = true ] || { docker logs "$container" | tail; exit 1; }
    sleep 0.05
  done
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then
    say "again with --network host (no docker-proxy):"
    # shellcheck disable=SC2086
    $PY -m bench.service --url "http://127.0.0.1:$port" --no-soak ${BENCH_ARGS:-}
  else
    say "with --network host the server did not answer on 127.0.0.1:$port within 60 s: no run without the proxy"
  fi
else
  say "docker run --network host failed: no run without the proxy"
fi
