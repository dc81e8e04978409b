#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the feedback store's tests (tests/app/test_feedback*.py).
#
#   source .ci/postgres.sh && start_postgres     # exports DIGITPAD_TEST_DATABASE_URL; stop_postgres stops it
#   .ci/postgres.sh start                        # by hand: prints the export line and the stop command
#
# Uses Debian's server binaries (apt-get install postgresql; /usr/lib/postgresql/<version>/bin, not on PATH),
# a cluster made by initdb in a fresh temporary folder, trust authentication, listening only on 127.0.0.1 on a
# free port, its Unix socket in that folder. As root (CI) it runs as the `postgres` user the package creates,
# since PostgreSQL refuses to run as root. Nothing outside the temporary folder is touched.

pg_bin() { # the newest installed server's bin folder, or nothing
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; elif command -v initdb >/dev/null; then
    dirname "$(command -v initdb)"
  fi
}

as_owner() { # run a server command as the cluster's owner
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin port
  bin=$(pg_bin)
  [ -n "$bin" ] || { echo "start_postgres: no PostgreSQL server installed (apt-get install postgresql)" >&2; return 1; }
  PG_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/digitpad-pg.XXXXXX")
  PG_TEST_BIN=$bin # set before initdb: stop_postgres needs it if a later step fails
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_TEST_DIR"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 \
    || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  # fsync off: a throwaway test cluster need not survive a power cut, and the tests write many small rows.
  as_owner "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TEST_DIR -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
  export DIGITPAD_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$port ($PG_TEST_DIR)"
}

stop_postgres() { # never fails: .ci/run calls it from its EXIT trap, where a failure would turn a passing run into exit 1
  [ -n "${PG_TEST_DIR:-}" ] || return 0
  local pg_ctl="${PG_TEST_BIN:-$(pg_bin)}/pg_ctl"
  if [ -f "$PG_TEST_DIR/data/postmaster.pid" ] \
    && ! as_owner "$pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1 \
    && ! as_owner "$pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w stop >/dev/null 2>&1; then
    # Its folder stays: deleting the data of a server that may still run would leave it unstoppable by pg_ctl.
    echo "stop_postgres: the test server in $PG_TEST_DIR did not stop; see $PG_TEST_DIR/server.log" >&2
  else
    rm -rf "$PG_TEST_DIR" || echo "stop_postgres: could not remove $PG_TEST_DIR" >&2
  fi
  PG_TEST_DIR=
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then # run, not sourced
  set -euo pipefail
  case "${1:-}" in
    start)
      start_postgres >&2
      echo "export DIGITPAD_TEST_DATABASE_URL=$DIGITPAD_TEST_DATABASE_URL"
      echo "# stop it with: $0 stop $PG_TEST_DIR" >&2;;
    stop)
      PG_TEST_DIR=${2:?usage: $0 stop FOLDER}
      PG_TEST_BIN=$(pg_bin)
      stop_postgres;;
    *) echo "usage: $0 start | stop FOLDER" >&2; exit 2;;
  esac
fi
