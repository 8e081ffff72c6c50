#!/usr/bin/env bash
# The console's end-to-end test: builds what changed, makes sure the gateway serves it, then Playwright drives
# Debian's headless chromium against the running stack: logins on Keycloak's real page, the five tabs, two roles.
# Needs the stack with Keycloak (make apps). Artifacts: test-artifacts/web/.
# Extra arguments go to `playwright test` (e.g. --headed is not available here; --debug neither).
set -euo pipefail
WEB="$(cd "$(dirname "$0")/.." && pwd -P)"
ROOT="$(dirname "$WEB")"
URL="${WEB_URL:-http://127.0.0.1:8080}"
log() { printf '[web-e2e] %s\n' "$*" >&2; }

bash "$WEB/install.sh"

gateway_up() { curl -fsS -o /dev/null --max-time 2 "$URL/health"; }
if ! gateway_up; then
  # `make test` starts the apps; a gateway that went FATAL (e.g. dist was not built yet) is started here once.
  if [ -S "$ROOT/.run/supervisor.sock" ] && [ -x "$ROOT/.venv/bin/supervisorctl" ]; then
    log "gateway not answering on $URL: starting oauth2-proxy and web-gateway under supervisord"
    ctl=("$ROOT/.venv/bin/supervisorctl" -c "$ROOT/infra/supervisord.conf")
    "${ctl[@]}" update >/dev/null 2>&1 || true
    "${ctl[@]}" start oauth2-proxy web-gateway >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 30); do gateway_up && break; sleep 0.5; done
  gateway_up || { log "the gateway does not answer on $URL/health (see .run/logs/web-gateway.log and oauth2-proxy.log)"; exit 1; }
fi

mkdir -p "$ROOT/test-artifacts/web"
cd "$WEB"
# E2E_CONFIG=e2e/docs.config.ts: the services' /docs and /redoc instead of the console.
exec npx --no-install playwright test -c "${E2E_CONFIG:-e2e/playwright.config.ts}" "$@"
