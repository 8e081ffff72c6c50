#!/usr/bin/env bash
# Runs FerretDB (MongoDB wire protocol) in the foreground for supervisord, storing data in SQLite files under .run/.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

# No auth (the SQLite handler has none), telemetry off, debug HTTP listener off (one less port to collide on).
exec "$FERRETDB_BIN" \
  --handler=sqlite \
  --sqlite-url="file:$CB_RUN/ferretdb/" \
  --state-dir="$CB_RUN/ferretdb-state" \
  --listen-addr="127.0.0.1:$FERRETDB_PORT" \
  --debug-addr=- \
  --telemetry=disable \
  --log-level=info \
  --log-format=text
