#!/usr/bin/env bash
# Gets the console ready on a fresh Debian machine: chromium (e2e) and nginx (gateway) from Debian, oauth2-proxy
# (the gateway's login) built with Go into the shared cache, node_modules via `npm ci` when package-lock.json
# changed, and web/dist rebuilt when the sources changed.
# Idempotent and quick when nothing changed. Needs Node >= 20.19 + npm and Go (from the machine).
# --no-apt: only node_modules and dist (the gateway's launcher uses it; it must not install anything).
set -euo pipefail
APT=1
[ "${1:-}" != "--no-apt" ] || APT=0
cd "$(dirname "$0")"
# Shared paths and versions (OAUTH2_PROXY_BIN); sourced first so the log/die below are this script's own.
# shellcheck source=../infra/lib/common.sh
source ../infra/lib/common.sh
log() { printf '[web] %s\n' "$*" >&2; }
die() { printf '[web] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Debian packages -----------------------------------------------------------------------------------------
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ "$APT" -eq 1 ] && [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: run as root (apt-get install ${missing[*]})"
  log "apt-get install ${missing[*]}"
  # Debian starts a freshly installed nginx on port 80; a policy-rc.d answering 101 prevents that (ours runs under
  # supervisord on 127.0.0.1:8080). Only a policy file we created is removed afterwards.
  policy=/usr/sbin/policy-rc.d created=""
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1; fi
  rc=0
  { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >/tmp/web-install-apt.log 2>&1 || rc=$?
  [ -z "$created" ] || rm -f "$policy"
  [ "$rc" -eq 0 ] || { tail -n 20 /tmp/web-install-apt.log >&2; die "apt-get install failed (log: /tmp/web-install-apt.log)"; }
fi

# --- oauth2-proxy --------------------------------------------------------------------------------------------
if [ "$APT" -eq 1 ] && [ ! -x "$OAUTH2_PROXY_BIN" ]; then
  command -v go >/dev/null || die "Go is needed to build oauth2-proxy (install Go >= 1.22 from go.dev)"
  log "building oauth2-proxy $OAUTH2_PROXY_VERSION into ${OAUTH2_PROXY_BIN/#$HOME/\~} (first time only)"
  gobin="$(mktemp -d)"
  # Built into a temp dir and moved, so an interrupted build never leaves a half-written binary behind.
  GOBIN="$gobin" go install "github.com/oauth2-proxy/oauth2-proxy/v7@$OAUTH2_PROXY_VERSION" >/tmp/web-install-go.log 2>&1 ||
    { tail -n 20 /tmp/web-install-go.log >&2; die "go install oauth2-proxy failed (log: /tmp/web-install-go.log)"; }
  mkdir -p "$(dirname "$OAUTH2_PROXY_BIN")"
  mv -f "$gobin/oauth2-proxy" "$OAUTH2_PROXY_BIN"
  rm -rf "$gobin"
fi

# --- node_modules --------------------------------------------------------------------------------------------
command -v npm >/dev/null || die "npm not found: install Node.js >= 20.19"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "Node $(node --version) is too old: Vite 8 needs >= 20.19"
stamp=node_modules/.lock-sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "npm ci (package-lock.json changed)"
  npm ci --no-audit --no-fund --prefer-offline --loglevel=error
  echo "$want" >"$stamp"
fi

# --- dist ----------------------------------------------------------------------------------------------------
built=dist/.built
if [ ! -f "$built" ] || [ -n "$(find src public index.html vite.config.ts tsconfig.json package-lock.json -newer "$built" -print -quit)" ]; then
  log "building the console (vite build)"
  npm run --silent build >/tmp/web-build.log 2>&1 || { tail -n 30 /tmp/web-build.log >&2; die "build failed (log: /tmp/web-build.log)"; }
  touch "$built"
fi
if [ "$APT" -eq 1 ]; then log "ready: web/dist built, chromium, nginx and oauth2-proxy installed"; else log "ready: web/dist built"; fi
