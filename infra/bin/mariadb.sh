#!/usr/bin/env bash
# Runs MariaDB in the foreground for supervisord, with its data and socket under .run/.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

# --no-defaults: ignore /etc/mysql/*.cnf so a distro install (socket in /run/mysqld, other ports) cannot interfere.
# durable (the default): innodb_flush_log_at_trx_commit=1 fsyncs the redo log at every COMMIT before answering, and
# the doublewrite buffer (on by default) covers torn pages. The binary log is off (no --log-bin), so there is no
# sync_binlog to set; whoever turns it on must add --sync-binlog=1.
# relaxed (CLOUDBANK_DURABILITY=relaxed, benchmarks/tests only): =2 writes the log at each commit but fsyncs it once
# a second; a kill -9 of mariadbd loses nothing, a power loss may lose the last second of answered commits.
if [ "$(durability_for mariadb)" = durable ]; then FLUSH_AT_COMMIT=1; else FLUSH_AT_COMMIT=2; fi
# skip-name-resolve: no DNS lookups per connection; users are matched by '%' / 'localhost' (socket) only.
exec /usr/sbin/mariadbd --no-defaults \
  --user=root \
  --datadir="$MARIADB_DATA" \
  --socket="$MARIADB_SOCKET" \
  --pid-file="$CB_RUN/mariadb.pid" \
  --bind-address=127.0.0.1 \
  --port="$MARIADB_PORT" \
  --skip-name-resolve \
  --max-connections=500 \
  --innodb-flush-log-at-trx-commit="$FLUSH_AT_COMMIT" \
  --innodb-buffer-pool-size=256M \
  --character-set-server=utf8mb4 \
  --collation-server=utf8mb4_unicode_ci \
  --log-warnings=1
