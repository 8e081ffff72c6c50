#!/usr/bin/env bash
# Runs PostgreSQL 15 in the foreground for supervisord (as the postgres user: postgres refuses to run as root).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

# setpriv execs in place (no extra parent process like su/runuser), so supervisord's signals reach the postmaster.
# Settings are flags rather than an edited postgresql.conf so they are all visible here and apply on every start.
# durable (the default): a COMMIT is answered only after its WAL is fsynced, and full-page images make a torn page
# after a power loss recoverable, so every acknowledged write survives a kill -9 and a power loss.
# relaxed (CLOUDBANK_DURABILITY=relaxed, benchmarks/tests only): no fsync at all; a kill -9 of postgres loses
# nothing (the OS still has the pages), a power loss may lose answered commits or corrupt the cluster.
if [ "$(durability_for postgres)" = durable ]; then
  DURABILITY=(-c fsync=on -c synchronous_commit=on -c full_page_writes=on)
else
  DURABILITY=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
fi
cd "$PG_DATA"
exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
  "$PG_BIN/postgres" -D "$PG_DATA" \
  -c listen_addresses=127.0.0.1 \
  -c port="$PG_PORT" \
  -c unix_socket_directories="$PG_DATA" \
  -c max_connections=200 \
  -c shared_buffers=128MB \
  "${DURABILITY[@]}" \
  -c logging_collector=off \
  -c log_destination=stderr \
  -c log_min_messages=warning \
  -c log_connections=off
