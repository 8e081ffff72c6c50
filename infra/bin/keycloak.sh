#!/usr/bin/env bash
# Runs Keycloak (realm `cloudbank` imported at start) in the foreground for supervisord, from the cached distribution.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

[ -f "$KEYCLOAK_HOME/.cloudbank-build" ] || { echo "Keycloak missing in $KEYCLOAK_HOME: run infra/stack.sh install" >&2; exit 1; }

# The distribution in the cache is shared by every checkout and only read at run time. Keycloak keeps its data under
# kc.home.dir/data, so each checkout runs with its own home in .run/keycloak/home: links to the shared lib, themes and
# providers, and a real data/ (H2 database, import dir, transaction logs, tmp).
KC_RUN="$CB_RUN/keycloak"
KC_HOME_DIR="$KC_RUN/home"
mkdir -p "$KC_HOME_DIR/data/import"
for d in lib themes providers conf; do ln -sfn "$KEYCLOAK_HOME/$d" "$KC_HOME_DIR/$d"; done

# Bootstrap admin of the master realm (created with the master realm at the first start only).
export KC_BOOTSTRAP_ADMIN_USERNAME="${KC_BOOTSTRAP_ADMIN_USERNAME:-admin}"
if [ "${CLOUDBANK_ENV:-development}" != production ]; then
  export KC_BOOTSTRAP_ADMIN_PASSWORD="${KC_BOOTSTRAP_ADMIN_PASSWORD:-admin-dev}"
fi

# Refuses default secrets with CLOUDBANK_ENV=production; writes the realm to import (no demo users in production).
PY="$CB_ROOT/.venv/bin/python"
[ -x "$PY" ] || PY=python3
"$PY" -I -S "$CB_INFRA/keycloak/prepare.py" "$CB_INFRA/keycloak/cloudbank-realm.json" "$KC_HOME_DIR/data/import/cloudbank-realm.json"

# --import-realm skips a realm that already exists, so an edited realm file would never apply. The data here are
# throwaway (demo users, and customer logins the tests create): when the realm to import changed, start from scratch.
realm_sum="$(sha256sum <"$KC_HOME_DIR/data/import/cloudbank-realm.json" | cut -d' ' -f1)"
if [ "$(cat "$KC_RUN/realm.sha256" 2>/dev/null)" != "$realm_sum" ]; then
  [ ! -d "$KC_HOME_DIR/data/h2" ] || echo "keycloak: the realm file changed: recreating its database" >&2
  rm -rf "$KC_HOME_DIR/data/h2" "$KC_HOME_DIR/data/transaction-logs"
  echo "$realm_sum" >"$KC_RUN/realm.sha256"
fi

# JVM: kc.sh's defaults (G1, encodings, ExitOnOutOfMemoryError, a 64m-512m heap) plus C1 only (TieredStopAtLevel=1),
# which cuts the CPU a start costs on this 2-core box (same trade-off as Kafka's launcher; measured in README
# "Identity"). KEYCLOAK_OPTS (optional) is appended, e.g. KEYCLOAK_OPTS=-XX:TieredStopAtLevel=4.
export JAVA_OPTS_APPEND="-XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true ${KEYCLOAK_OPTS:-}"

# `start --optimized`: production mode with the build made at install (no re-augmentation). Plain HTTP on 127.0.0.1
# only; the issuer is fixed by --hostname so every caller (services, gateway, tests) sees the same `iss`.
# -Dkc.home.dir comes after kc.sh's own (the last -D wins) and points Keycloak at this checkout's home.
exec "$KEYCLOAK_HOME/bin/kc.sh" -Dkc.home.dir="$KC_HOME_DIR" start --optimized \
  --http-enabled=true --http-host=127.0.0.1 --http-port="$KEYCLOAK_PORT" \
  --http-management-port="$KEYCLOAK_MGMT_PORT" \
  --hostname="http://127.0.0.1:$KEYCLOAK_PORT" --hostname-strict=false \
  --cache=local --import-realm
