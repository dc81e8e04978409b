#!/usr/bin/env bash
# Build the digitpad image and run it for real: `make docker-test`, also called from .ci/run.
#
# 1. installs docker.io and debootstrap if missing (apt-get, as root);
# 2. starts dockerd in the background if no engine answers (and stops that one, by PID, at the end);
# 3. builds the local Debian base image (docker/build_base_image.sh, cached) unless DOCKER_TEST_BASE_IMAGE
#    names another base (e.g. python:3.12-slim where Docker Hub is reachable);
# 4. builds the image with the legacy builder (DOCKER_BUILDKIT=0);
# 5. runs it on a free loopback port and checks the API, the page, feedback kept in /data, the user, the health
#    status, a read-only hardened run with DIGITPAD_PORT overridden (feedback there: 503), and a clean exit on
#    SIGTERM; removes the containers.
# Prints PASS/FAIL lines and a final `docker: N passed, M failed`; exits 1 on any failure. Exits 0 with a
# SKIP line only where this machine cannot run a Docker engine.
#
# Environment: DOCKER_TEST_IMAGE (default digitpad), DOCKER_TEST_BASE_IMAGE (default localbase:bookworm,
# built here), DIGITPAD_CACHE_DIR (base rootfs cache, default ~/.cache/digitpad), and the usual
# PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_TRUSTED_HOST / HTTP(S)_PROXY / NO_PROXY, passed to the build.
set -uo pipefail
cd "$(dirname "$0")/.."

IMAGE=${DOCKER_TEST_IMAGE:-digitpad}
BASE_IMAGE=${DOCKER_TEST_BASE_IMAGE:-localbase:bookworm}
HEALTHY_TIMEOUT=${DOCKER_TEST_HEALTHY_TIMEOUT:-90}
MAX_ADDED_MB=150
t_start=$(date +%s)
work=$(mktemp -d)
passed=0
failed=0
dockerd_pid=
containers=()

say() { printf '[docker-test] %s\n' "$*"; }
pass() { passed=$((passed + 1)); printf 'PASS %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }
check() { # check "name" command...: PASS if the command succeeds
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

teardown() { # remove our containers; stop the dockerd we started (only that one, by its PID)
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1; done
  containers=()
  if [ -n "$dockerd_pid" ]; then
    say "stopping the dockerd this test started (pid $dockerd_pid)"
    kill -TERM "$dockerd_pid" 2>/dev/null
    for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$dockerd_pid" 2>/dev/null && kill -KILL "$dockerd_pid" 2>/dev/null
    dockerd_pid=
  fi
}
cleanup() {
  local rc=$?
  teardown
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

summary() { # tear down first, so the summary is the last line
  teardown
  say "took $(($(date +%s) - t_start)) s"
  echo "docker: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
skip() {
  teardown
  echo "SKIP docker: $*"
  echo "docker: 0 passed, 0 failed (skipped: this machine cannot run a Docker engine)"
  exit 0
}
abort() { # a failure that stops the run: count it, print the summary, exit 1
  fail "$*"
  summary
}

# --- 1. tools -------------------------------------------------------------------------------------------------
need=()
command -v docker >/dev/null || need+=(docker.io)
command -v dockerd >/dev/null || { docker info >/dev/null 2>&1 || need+=(docker.io); }
[ "$BASE_IMAGE" = localbase:bookworm ] && ! command -v debootstrap >/dev/null && need+=(debootstrap)
if ((${#need[@]})); then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    skip "needs ${need[*]} and cannot install them here (not root, or no apt-get)"
  fi
  say "installing ${need[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } >"$work/apt.log" 2>&1 \
    || { tail -20 "$work/apt.log"; abort "apt-get install ${need[*]}"; }
fi

# --- 2. engine ------------------------------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || skip "no Docker engine answers and starting dockerd needs root"
  say "starting dockerd in the background"
  dockerd >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -15 "$work/dockerd.log" | sed 's/^/  dockerd: /'
    kill -0 "$dockerd_pid" 2>/dev/null || dockerd_pid=
    skip "dockerd did not start (see its log above; usually missing privileges, cgroups or overlayfs)"
  fi
  say "dockerd is up (pid $dockerd_pid)"
fi
export DOCKER_BUILDKIT=0 DOCKER_CLI_HINTS=false

# --- 3. base image --------------------------------------------------------------------------------------------
if [ "$BASE_IMAGE" = localbase:bookworm ]; then
  t0=$(date +%s)
  BASE_TAG=$BASE_IMAGE docker/build_base_image.sh || abort "build the base image $BASE_IMAGE"
  say "base image $BASE_IMAGE ready in $(($(date +%s) - t0)) s"
elif ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  docker pull "$BASE_IMAGE" >/dev/null || abort "pull the base image $BASE_IMAGE"
fi

# --- 4. image -------------------------------------------------------------------------------------------------
# Package index and proxy settings: only network ones make sense inside the build (not file:// or paths).
build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
for var in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  value=${!var:-}
  case "$var:$value" in
    *:) ;;
    PIP_*URL:*file:*) say "not passing $var=$value to the build (a local path)";;
    *) build_args+=(--build-arg "$var=$value");;
  esac
done
say "building $IMAGE on $BASE_IMAGE (legacy builder)"
t0=$(date +%s)
if docker build "${build_args[@]}" -t "$IMAGE" . >"$work/build.log" 2>&1; then
  build_s=$(($(date +%s) - t0))
  pass "docker build -t $IMAGE on $BASE_IMAGE (${build_s} s)"
else
  tail -40 "$work/build.log"
  abort "docker build -t $IMAGE on $BASE_IMAGE"
fi

size() { docker image inspect --format '{{.Size}}' "$1"; }
added=$(($(size "$IMAGE") - $(size "$BASE_IMAGE")))
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
say "image $(mb "$(size "$IMAGE")") in all, base $(mb "$(size "$BASE_IMAGE")"), added $(mb "$added")"
check "the image adds $(mb "$added") on top of the base (limit $MAX_ADDED_MB MB)" [ "$added" -le $((MAX_ADDED_MB * 1000000)) ]

# Only runtime dependencies: no pip, no test tools in the image's environment.
extras=$(docker run --rm --entrypoint python "$IMAGE" -c \
  'import importlib.util as u; print(" ".join(m for m in ("pip", "pytest", "httpx", "ruff", "setuptools") if u.find_spec(m)))' 2>&1)
if [ -z "$extras" ]; then
  pass "no pip, pytest, httpx, ruff or setuptools in the image's environment"
else
  fail "no pip, pytest, httpx, ruff or setuptools in the image's environment (found: $extras)"
fi

# The runtime dependencies are the pinned, tested versions (constraints.txt): none missing, none different.
pins=$(grep -v '^#' constraints.txt | tr '\n' ' ')
unpinned=$(docker run --rm --entrypoint python "$IMAGE" -c '
import sys
from importlib.metadata import PackageNotFoundError, version
def installed(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return "missing"
pins = [pin.split("==") for pin in sys.argv[1:]]
print(" ".join(f"{name}=={installed(name)}(pinned {want})" for name, want in pins if installed(name) != want))
' $pins 2>&1)
if [ -z "$unpinned" ]; then
  pass "the image holds the pinned versions of all $(wc -w <<<"$pins") runtime dependencies (constraints.txt)"
else
  fail "the image holds the pinned versions of the runtime dependencies (differ: $unpinned)"
fi

# --- 5. run ---------------------------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_container() { # start_container NAME PORT [docker run options...]: runs IMAGE, records the container
  local name=$1 port=$2; shift 2
  docker rm -f "$name" >/dev/null 2>&1
  containers+=("$name")
  docker run -d --name "$name" --health-interval 1s --health-start-period 60s "$@" "$IMAGE" >/dev/null
}
running() { [ "$(docker inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
wait_serving() { # wait_serving NAME URL: until /healthz answers 200 (60 s at most), or the container exits
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    python3 docker/smoke_test.py "$2" --wait 1 && return 0
    running "$1" || { say "container $1 exited"; return 1; }
  done
  return 1
}
show_logs() { docker logs --tail 30 "$1" 2>&1 | sed 's/^/  container: /'; }
smoke() { # smoke URL [--quick]: the HTTP checks, counted here
  local out rc
  out=$(python3 docker/smoke_test.py "$@"); rc=$?
  printf '%s\n' "$out"
  passed=$((passed + $(grep -c '^PASS ' <<<"$out")))
  failed=$((failed + $(grep -c '^FAIL ' <<<"$out")))
  [ "$rc" -eq 0 ] || [ -n "$(grep '^FAIL ' <<<"$out")" ] || fail "smoke_test.py exited with $rc"
}

feedback_status() { # feedback_status URL: the HTTP status of one POST /api/feedback (a drawn bar labelled 1)
  python3 - "$1" <<'PY'
import json, sys, urllib.error, urllib.request
body = json.dumps({"pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464, "label": 1}).encode()
request = urllib.request.Request(sys.argv[1] + "/api/feedback", body, {"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=15) as response:
        print(response.status)
except urllib.error.HTTPError as err:
    print(err.code)
except OSError as err:
    print(f"no answer ({err})")
PY
}

main=digitpad-test-$$
port=$(free_port)
t0=$(date +%s.%N)
start_container "$main" "$port" -p "127.0.0.1:$port:8000" || abort "docker run $IMAGE"
if wait_serving "$main" "http://127.0.0.1:$port"; then
  say "serving on 127.0.0.1:$port after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
  smoke "http://127.0.0.1:$port"
  status=$(feedback_status "http://127.0.0.1:$port")
  check "POST /api/feedback keeps a correction in the image's /data (status $status)" [ "$status" = 201 ]
else
  show_logs "$main"
  fail "the container answers /healthz on 127.0.0.1:$port within 60 s"
fi

uid=$(docker exec "$main" id -u 2>/dev/null)
if [ -n "$uid" ] && [ "$uid" != 0 ]; then
  pass "the container runs as a non-root user (uid $uid)"
else
  fail "the container runs as a non-root user (uid ${uid:-unknown})"
fi

health=
for _ in $(seq $((HEALTHY_TIMEOUT * 2))); do
  health=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$main" 2>/dev/null)
  [ "$health" = healthy ] || [ "$health" = unhealthy ] || ! running "$main" && break
  sleep 0.5
done
healthy_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [ "$health" = healthy ]; then
  pass "the HEALTHCHECK reports healthy (${healthy_s} s after docker run)"
else
  docker inspect --format '{{range .State.Health.Log}}{{.Output}}{{end}}' "$main" 2>/dev/null | tail -3 | sed 's/^/  healthcheck: /'
  fail "the HEALTHCHECK reports healthy within ${HEALTHY_TIMEOUT} s (status: ${health:-none})"
fi

# Hardened: read-only root filesystem, no capabilities, no privilege escalation, DIGITPAD_PORT changed.
ro=digitpad-test-ro-$$
ro_port=$(free_port)
if start_container "$ro" "$ro_port" --read-only --cap-drop ALL --security-opt no-new-privileges \
     -e DIGITPAD_PORT=9000 -p "127.0.0.1:$ro_port:9000"; then
  if wait_serving "$ro" "http://127.0.0.1:$ro_port"; then
    pass "docker run --read-only --cap-drop ALL -e DIGITPAD_PORT=9000 serves"
    smoke "http://127.0.0.1:$ro_port" --quick
    status=$(feedback_status "http://127.0.0.1:$ro_port")
    check "read-only without a volume, POST /api/feedback answers 503 (status $status)" [ "$status" = 503 ]
  else
    show_logs "$ro"
    fail "docker run --read-only --cap-drop ALL -e DIGITPAD_PORT=9000 serves"
  fi
else
  fail "docker run --read-only $IMAGE"
fi

# SIGTERM: `docker stop` sends it and waits 10 s before SIGKILL (exit 137); uvicorn should exit 0 at once.
t1=$(date +%s.%N)
docker stop -t 10 "$main" >/dev/null
stop_s=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
code=$(docker inspect --format '{{.State.ExitCode}}' "$main")
if [ "$code" = 0 ] && awk -v s="$stop_s" 'BEGIN { exit !(s < 8) }'; then
  pass "SIGTERM (docker stop) exits with code 0 in $stop_s s"
else
  fail "SIGTERM (docker stop) exits with code 0 within 8 s (exit code $code after $stop_s s)"
fi
logs=$(docker logs "$main" 2>&1)
if grep -q 'Traceback' <<<"$logs"; then
  show_logs "$main"
  fail "no traceback in the container log"
else
  pass "no traceback in the container log"
fi

summary
