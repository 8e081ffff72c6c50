#!/usr/bin/env bash
# Runs nginx in the foreground for supervisord: the console (web/dist) and /api/* to the services on 127.0.0.1:8080.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

NGINX=/usr/sbin/nginx
[ -x "$NGINX" ] || die "nginx is not installed: run bash web/install.sh"
# Build the console if it is missing or older than its sources (a no-op when up to date), so a fresh clone's
# `start-apps` serves it without a separate step; Debian packages are web/install.sh's job, not this launcher's.
bash "$CB_ROOT/web/install.sh" --no-apt || die "could not build the console (see above); try: bash web/install.sh"
[ -f "$CB_ROOT/web/dist/index.html" ] || die "web/dist is not built: run bash web/install.sh"
mkdir -p "$CB_RUN/web-gateway" "$CB_LOGS"

global="daemon off;"
# As root, nginx runs its workers as "nobody", who may not be allowed into the checkout (e.g. under /root):
# keep them as the invoking user. The gateway only listens on 127.0.0.1.
[ "$(id -u)" -ne 0 ] || global="$global user root;"

# -p: relative paths in nginx.conf (pid, temp dirs, logs, web/dist) resolve inside this checkout.
exec "$NGINX" -p "$CB_ROOT/" -c "$CB_INFRA/web-gateway/nginx.conf" -g "$global"
