#!/usr/bin/env bash
# Runs FerretDB (MongoDB wire protocol) in the foreground for supervisord, storing data in SQLite files under .run/.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

# No auth (the SQLite handler has none), telemetry off, debug HTTP listener off (one less port to collide on).
# FerretDB runs SQLite in WAL mode. durable (the default): synchronous(full) fsyncs the WAL at every commit before
# FerretDB answers, so an acknowledged write survives a kill -9 and a power loss.
# relaxed (CLOUDBANK_DURABILITY=relaxed, benchmarks/tests only): synchronous(normal) skips that fsync; a commit
# survives a kill -9 of any process, a power loss may drop the last ones. Measured on this box: bulk replaces
# 691-940/s (full) vs 1,158-1,206/s (normal), single inserts 503/s vs 777-911/s.
# GOGC=400: Go's collector runs when the heap has grown 4x (default 2x) since the last one; memory is plentiful
# here and collections were a tenth of FerretDB's CPU. Measured on this box with our build (synchronous(full); bulk
# insert, replace, insert, delete of 2 KB documents, 19,200 operations a run, 6 runs each): 0.118-0.146 ms CPU per
# operation at 100, 0.092-0.121 at 400; peak RSS 47 MB and 67 MB. FERRETDB_GOGC overrides it.
export GOGC="${FERRETDB_GOGC:-400}"
if [ "$(durability_for ferretdb)" = durable ]; then SYNCHRONOUS=full; else SYNCHRONOUS=normal; fi
exec "$FERRETDB_BIN" \
  --handler=sqlite \
  --sqlite-url="file:$CB_RUN/ferretdb/?_pragma=synchronous($SYNCHRONOUS)" \
  --state-dir="$CB_RUN/ferretdb-state" \
  --listen-addr="127.0.0.1:$FERRETDB_PORT" \
  --debug-addr=- \
  --telemetry=disable \
  --log-level=info \
  --log-format=text
