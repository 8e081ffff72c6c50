#!/usr/bin/env bash
# Runs HAProxy in the foreground (-db) for supervisord with infra/haproxy.cfg (the cuentas pair on :8002).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

# haproxy.cfg refers to "${CB_RUN}" for its admin socket.
export CB_RUN
exec /usr/sbin/haproxy -db -f "$CB_INFRA/haproxy.cfg" -p "$CB_RUN/haproxy.pid"
