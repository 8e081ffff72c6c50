#!/usr/bin/env bash
# Runs MariaDB in the foreground for supervisord, with its data and socket under .run/.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

# --no-defaults: ignore /etc/mysql/*.cnf so a distro install (socket in /run/mysqld, other ports) cannot interfere.
# innodb_flush_log_at_trx_commit=2: flush the redo log once a second instead of per commit (dev stack; a crash of
# the OS may lose the last second, a crash of mariadbd loses nothing).
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
  --innodb-flush-log-at-trx-commit=2 \
  --innodb-buffer-pool-size=256M \
  --character-set-server=utf8mb4 \
  --collation-server=utf8mb4_unicode_ci \
  --log-warnings=1
