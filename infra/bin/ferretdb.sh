#!/usr/bin/env bash
# Runs FerretDB (MongoDB wire protocol) in the foreground for supervisord, storing data in SQLite files under .run/.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

# No auth (the SQLite handler has none), telemetry off, debug HTTP listener off (one less port to collide on).
# synchronous(normal): FerretDB already runs SQLite in WAL mode; NORMAL skips the fsync of every commit, so a commit
# survives a crash of any process (kill -9 included) and only a power loss may drop the last ones, the same bargain
# as postgres.sh and mariadb.sh make for this local stack. Measured: bulk replaces 691-940/s -> 1,158-1,206/s,
# single inserts 503/s -> 777-911/s.
exec "$FERRETDB_BIN" \
  --handler=sqlite \
  --sqlite-url="file:$CB_RUN/ferretdb/?_pragma=synchronous(normal)" \
  --state-dir="$CB_RUN/ferretdb-state" \
  --listen-addr="127.0.0.1:$FERRETDB_PORT" \
  --debug-addr=- \
  --telemetry=disable \
  --log-level=info \
  --log-format=text
