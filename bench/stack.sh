#!/usr/bin/env bash
# `make bench`: runs bench/bench_<name>.py against a throwaway copy of this checkout with a stack of its own (own .run/,
# own network namespace when possible), never against the demo data; the copy, its stack and the namespace are
# deleted afterwards whatever happens.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: bench/stack.sh [NAME...]     NAME = saga, cuentas, ... (bench/bench_NAME.py); none = every benchmark
env: BENCH_ARGS     extra arguments for each benchmark, e.g. "--requests 300 --concurrency 1,16,64 --duration 10"
     CLOUDBANK_DURABILITY, STACK_TIMEOUT, APPS_TIMEOUT, KEYCLOAK_TIMEOUT: as for infra/stack.sh
Results: bench/results/*.json of this checkout. Needs root (like `make up`); runs in a network namespace of its
own when `ip` is there (so the checkout's own stack may stay up), else only while nothing holds the stack's ports.
EOF
  exit 2
}
case "${1:-}" in -h | --help) usage ;; esac

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

NAMES=("$@")
if [ "${#NAMES[@]}" -eq 0 ]; then
  for f in "$SRC"/bench/bench_*.py; do n="${f##*/bench_}"; NAMES+=("${n%.py}"); done
fi
for n in "${NAMES[@]}"; do [ -f "$SRC/bench/bench_$n.py" ] || die "no benchmark bench/bench_$n.py"; done
[ "$(id -u)" -eq 0 ] || die "run as root: the stack runs PostgreSQL as the postgres user and may install packages"

# Network-needing set-up first, here in the root namespace: the namespace below has only a loopback interface, so
# everything started in it (make apps, the benchmarks) is also proven to need no network.
bash "$SRC/infra/python.sh"
bash "$SRC/web/install.sh"
# The copy shares this .venv. Its `make python` must be a no-op (the stamp newer than pyproject.toml; the copy keeps
# the mtimes): a reinstall there would point this venv's editable install at the temp dir.
[ "$SRC/.venv/.installed" -nt "$SRC/pyproject.toml" ] || die ".venv is older than pyproject.toml after infra/python.sh"

NS=""
COPY=""
cleanup() {
  local rc=$? pids
  set +e
  trap - EXIT INT TERM
  if [ -n "$COPY" ] && [ -d "$COPY/.run" ]; then
    log "stopping the bench stack"
    in_ns bash "$COPY/infra/stack.sh" stop || log "the bench stack did not stop cleanly"
  fi
  if [ -n "$NS" ]; then
    # Last resort for anything the stop left behind: every process in the namespace is one this script started.
    pids="$(ip netns pids "$NS" 2>/dev/null)"
    if [ -n "$pids" ]; then log "killing what is left in $NS: $(echo $pids)"; kill -KILL $pids 2>/dev/null; sleep 1; fi
    ip netns delete "$NS" || log "could not delete network namespace $NS"
  fi
  # rm does not follow the symlinks (.venv, bench/results, web/node_modules): only the copy goes.
  [ -z "$COPY" ] || rm -rf "$COPY"
  [ -z "$COPY" ] || [ ! -e "$COPY" ] || log "could not delete $COPY"
  log "cleaned up (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_ns() { if [ -n "$NS" ]; then ip netns exec "$NS" "$@"; else "$@"; fi; }

COPY="$(mktemp -d /tmp/cloudbank-bench.XXXXXX)"
log "copying the checkout to $COPY"
# Tracked and untracked files with their mtimes (the venv stamp and web/dist/.built stay valid); not the data, the
# venv, node_modules, git metadata or tool caches.
tar -C "$SRC" -cf - --exclude=./.git --exclude=./.run --exclude=./.venv --exclude=./web/node_modules \
  --exclude=./bench/results --exclude=.mypy_cache --exclude=.ruff_cache --exclude=.pytest_cache \
  --exclude=.hypothesis --exclude=./test-artifacts . | tar -C "$COPY" -xf -
ln -s "$SRC/.venv" "$COPY/.venv"
mkdir -p "$SRC/bench/results"
ln -s "$SRC/bench/results" "$COPY/bench/results"
[ ! -d "$SRC/web/node_modules" ] || ln -s "$SRC/web/node_modules" "$COPY/web/node_modules"

# Run in the copy: PYTHONPATH puts the copy's packages before the venv's editable install (which maps them to this
# checkout), so paths derived from a module's __file__ (the lake under .run/lake, ...) are the copy's too;
# supervisord passes it on to every program. The broker count and make's flags of this checkout do not apply.
in_copy() {
  in_ns env -u KAFKA_BROKERS -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PYTHONPATH="$COPY" bash -c 'cd "$1" && shift && "$@"' _ "$COPY" "$@"
}
in_copy bash infra/stack.sh install   # no-op when the shared cache has everything; in the root namespace (no NS yet)

# Isolation: a namespace of our own whenever possible (the stack's ports are fixed on 127.0.0.1, so this is what lets
# it run beside this checkout's stack or another one); without one, only on a machine where those ports are free.
if command -v ip >/dev/null && ip netns add "cloudbank-bench-$$" 2>/dev/null; then
  NS="cloudbank-bench-$$"
  ip netns exec "$NS" ip link set lo up
  log "network namespace $NS (loopback only)"
else
  ports=(5432 3306 9092 9093 27017 8180 9180 8000 8001 8002 8004 8012 8013 8014 8015 6000 8080 4180 8404 9464 9465)
  busy="$(python3 -I -S "$SRC/infra/probe.py" port-free "${ports[@]}")" ||
    die "no network namespace (needs iproute2 and CAP_SYS_ADMIN) and ports $busy are taken (a stack is up?): \`make down\` first"
  log "no network namespace available: running on the host's loopback (the stack's ports are free)"
fi

in_copy make --no-print-directory apps

read -ra ARGS <<<"${BENCH_ARGS:-}"
for n in "${NAMES[@]}"; do
  log "== bench_$n ${ARGS[*]}"
  in_copy .venv/bin/python -m "bench.bench_$n" "${ARGS[@]}"
done
log "results in bench/results/"
