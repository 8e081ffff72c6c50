#!/usr/bin/env bash
# Runs PostgreSQL 15 in the foreground for supervisord (as the postgres user: postgres refuses to run as root).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

# setpriv execs in place (no extra parent process like su/runuser), so supervisord's signals reach the postmaster.
# Settings are flags rather than an edited postgresql.conf so they are all visible here and apply on every start.
# fsync/synchronous_commit/full_page_writes off: this is a throwaway dev/test stack; a power loss may corrupt it
# (`stack.sh clean` fixes that). Never use these settings anywhere data matters.
cd "$PG_DATA"
exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
  "$PG_BIN/postgres" -D "$PG_DATA" \
  -c listen_addresses=127.0.0.1 \
  -c port="$PG_PORT" \
  -c unix_socket_directories="$PG_DATA" \
  -c max_connections=200 \
  -c shared_buffers=128MB \
  -c fsync=off \
  -c synchronous_commit=off \
  -c full_page_writes=off \
  -c logging_collector=off \
  -c log_destination=stderr \
  -c log_min_messages=warning \
  -c log_connections=off
