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
# which halves the CPU a start costs on this 2-core box (measured 26.8 -> 14.5 CPU-seconds; README "Identity").
# KEYCLOAK_OPTS (optional) is appended, e.g. KEYCLOAK_OPTS=-XX:TieredStopAtLevel=4.
# The 60 s connection acquisition timeout (Quarkus' default: 5 s): on a loaded box the first start's H2 took longer
# to open, the waiting thread was interrupted, and H2 logged an I/O error on its file (the start recovered).
JAVA_OPTS_APPEND="-XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true"
JAVA_OPTS_APPEND="$JAVA_OPTS_APPEND -Dquarkus.datasource.jdbc.acquisition-timeout=60S ${KEYCLOAK_OPTS:-}"
export JAVA_OPTS_APPEND

# `start --optimized`: production mode with the build made at install (no re-augmentation). Plain HTTP on 127.0.0.1
# only; the issuer is fixed by --hostname so every caller (services, gateway, tests) sees the same `iss`.
# -Dkc.home.dir comes after kc.sh's own (the last -D wins) and points Keycloak at this checkout's home.
KC=("$KEYCLOAK_HOME/bin/kc.sh" -Dkc.home.dir="$KC_HOME_DIR" start --optimized
  --http-enabled=true --http-host=127.0.0.1 --http-port="$KEYCLOAK_PORT"
  --http-management-port="$KEYCLOAK_MGMT_PORT"
  --hostname="http://127.0.0.1:$KEYCLOAK_PORT" --hostname-strict=false
  --cache=local --import-realm)

# Class Data Sharing, as for Kafka (infra/bin/kafka.sh): an archive of the classes a start loads halves its CPU once
# more (measured 15.2 -> 7.9 CPU-seconds, ready in 30 s instead of 100 s on the loaded box). The JVM writes it when it
# exits after a run with ArchiveClassesAtExit, i.e. at the first stop; later starts map it. It lives next to the
# distribution (a reinstall drops it; every checkout runs the same jars), is rebuilt when the JDK changes, and is
# written to a temp name that is moved into place only after a clean exit (a truncated archive crashes the JVM).
CDS="$KEYCLOAK_HOME/keycloak-cds.jsa"
LIBJVM="$(dirname "$(readlink -f "$(command -v java)")")/../lib/server/libjvm.so"
if [ -s "$CDS" ] && [ "$CDS" -nt "$LIBJVM" ]; then
  export JAVA_OPTS_APPEND="$JAVA_OPTS_APPEND -XX:SharedArchiveFile=$CDS"
  exec "${KC[@]}"
fi

# Leftovers of a dump that was killed half-way (not a dump another checkout may be writing right now).
find "$KEYCLOAK_HOME" -maxdepth 1 -name "${CDS##*/}.*" -mmin +30 -delete 2>/dev/null || true
tmp="$CDS.$$"
# -Xlog:cds=off: the dump lists thousands of classes it cannot archive (loaded by Quarkus' own class loader).
export JAVA_OPTS_APPEND="$JAVA_OPTS_APPEND -XX:ArchiveClassesAtExit=$tmp -Xlog:cds=off"
"${KC[@]}" &
pid=$!
# Only an archive of a run that got ready holds the classes a start needs (one stopped half-way would be kept, and
# mapped, forever): a helper marks readiness.
PROBE_PY="$CB_ROOT/.venv/bin/python"
[ -x "$PROBE_PY" ] || PROBE_PY=python3
(
  while kill -0 "$pid" 2>/dev/null; do
    if "$PROBE_PY" -I -S "$CB_INFRA/probe.py" http "http://127.0.0.1:$KEYCLOAK_MGMT_PORT/health/ready" >/dev/null 2>&1; then
      touch "$tmp.ready"; exit 0
    fi
    sleep 1
  done
) &
# supervisord signals the whole process group (stopasgroup); forward anyway in case only this script is signalled.
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
wait "$pid" || true
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || true; done
rc=0
wait "$pid" || rc=$?
# 143 = the JVM's normal exit on SIGTERM.
if { [ "$rc" -eq 0 ] || [ "$rc" -eq 143 ]; } && [ -f "$tmp.ready" ] && [ -s "$tmp" ]; then
  mv -f "$tmp" "$CDS"
else
  rm -f "$tmp"
fi
rm -f "$tmp.ready"
exit "$rc"
