# Shared paths, versions and helpers for infra/stack.sh and the infra/bin/* launchers (sourced, not executed).
# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this file

# The checkout is two levels up from this file; everything else derives from it so a clone anywhere
# (/work/main, /tmp/xyz/main) runs its own isolated stack.
CB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
CB_INFRA="$CB_ROOT/infra"
CB_RUN="$CB_ROOT/.run"            # data dirs, sockets, pid files (gitignored; `stack.sh clean` deletes it)
CB_LOGS="$CB_RUN/logs"
# Downloads and builds live outside the checkout so fresh clones and `clean` reuse them.
CB_CACHE="${CLOUDBANK_CACHE:-$HOME/.cache/cloudbank}"

# Kafka's version has one source of truth: the pom that fetches its jars.
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$CB_INFRA/kafka/pom.xml")"
KAFKA_LIBS="$CB_CACHE/kafka-$KAFKA_VERSION/libs"
# Fixed cluster id (base64 of "CloudBankLocal11"): formatting is reproducible and needs no extra JVM run.
KAFKA_CLUSTER_ID="Q2xvdWRCYW5rTG9jYWwxMQ"

# Keycloak's version has one source of truth too: the pom that fetches its distribution zip. The unpacked
# distribution is shared by every checkout (read-only at run time: `kc.sh build` runs once, at install); each
# checkout's data (H2 database, import dir, transaction logs) lives in .run/keycloak (infra/bin/keycloak.sh).
KEYCLOAK_VERSION="$(sed -n 's:.*<keycloak.version>\(.*\)</keycloak.version>.*:\1:p' "$CB_INFRA/keycloak/pom.xml")"
KEYCLOAK_HOME="$CB_CACHE/keycloak-$KEYCLOAK_VERSION"
# Build-time options, baked into the distribution by `kc.sh build` so every start can be `start --optimized` (no
# re-augmentation at start: that alone costs ~40 CPU-seconds). Changing them rebuilds (stamp in keycloak_ok).
# dev-file = embedded H2 in a file: this local stack's data are throwaway; compose uses the same (README "Identity").
KEYCLOAK_BUILD_OPTS=(--db=dev-file --health-enabled=true)
KEYCLOAK_PORT=8180
KEYCLOAK_MGMT_PORT=9180

FERRETDB_VERSION="v1.24.2"
# Our build of it: upstream plus the one-line fix in stack.sh install_ferretdb (bump the suffix when that changes).
FERRETDB_BUILD="$FERRETDB_VERSION-cloudbank.1"
FERRETDB_BIN="$CB_CACHE/bin/ferretdb"

PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
PG_DATA="$CB_RUN/postgres"        # also holds the unix socket (postgres refuses to run as root, so it is owned by postgres)
MARIADB_DATA="$CB_RUN/mariadb"
MARIADB_SOCKET="$CB_RUN/mariadb.sock"

# Ports (all bound to 127.0.0.1 only).
PG_PORT=5432
MARIADB_PORT=3306
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
FERRETDB_PORT=27017

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# Durability (README "Durability"): `durable` unless CLOUDBANK_DURABILITY=relaxed asks for the fast, unsafe settings
# by name. `stack.sh start` writes the chosen mode to DURABILITY_FILE; each infra launcher reads it when it starts
# (so a supervisord restart after a kill -9 keeps the mode) and records what it applied in DURABILITY_FILE.<name>,
# which `stack.sh status` reports.
DURABILITY_FILE="$CB_RUN/durability"
durability_wanted() {  # from the environment: durable, relaxed, or an error
  case "${CLOUDBANK_DURABILITY:-durable}" in
    durable | relaxed) echo "${CLOUDBANK_DURABILITY:-durable}" ;;
    *) die "CLOUDBANK_DURABILITY must be durable or relaxed, not '$CLOUDBANK_DURABILITY'" ;;
  esac
}
durability_for() {  # $1 = launcher name: the mode it applies now (anything but a written "relaxed" is durable)
  local mode=durable
  [ "$(cat "$DURABILITY_FILE" 2>/dev/null)" != relaxed ] || mode=relaxed
  echo "$mode" >"$DURABILITY_FILE.$1"
  echo "$mode"
}
