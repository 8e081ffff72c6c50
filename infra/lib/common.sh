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
# Our build of it: upstream plus the one-line fix in stack.sh install_ferretdb and infra/ferretdb/fastpath.patch (bump
# the suffix when either changes: a machine with another build rebuilds).
FERRETDB_BUILD="$FERRETDB_VERSION-cloudbank.2"
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

# Kafka cluster mode (README "How each component scales"): KAFKA_BROKERS=3 runs brokers kafka, kafka-2, kafka-3 (each
# broker and controller of a 3-voter KRaft quorum), broker n on port 9092+2(n-1) and its controller on the next one;
# data in .run/kafka, .run/kafka-2, .run/kafka-3. The count is fixed when the data is first formatted and recorded in
# KAFKA_BROKERS_FILE, which `make`, stack.sh and infra/pytest.sh read when KAFKA_BROKERS is not set.
# contracts/brokers.py derives the same ports and the topics' replication from the same variable.
KAFKA_BROKERS_FILE="$CB_RUN/kafka/brokers"
kafka_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }              # $1 = node id 1..3
kafka_controller_port() { echo $((KAFKA_PORT + 2 * ($1 - 1) + 1)); }
kafka_dir() { if [ "$1" -eq 1 ]; then echo "$CB_RUN/kafka"; else echo "$CB_RUN/kafka-$1"; fi; }
# The count this stack runs: KAFKA_BROKERS, else the recorded one, else 1 (a data dir formatted before the file
# existed is a single broker's). A different count than the data was formatted with is refused: `make clean` first.
kafka_brokers() {
  local recorded="" wanted
  if [ -f "$KAFKA_BROKERS_FILE" ]; then recorded="$(cat "$KAFKA_BROKERS_FILE")"
  elif [ -f "$CB_RUN/kafka/data/meta.properties" ]; then recorded=1; fi
  wanted="${KAFKA_BROKERS:-${recorded:-1}}"
  case "$wanted" in 1 | 3) ;; *) die "KAFKA_BROKERS must be 1 or 3, not '$wanted'" ;; esac
  [ -z "$recorded" ] || [ "$recorded" = "$wanted" ] ||
    die "this stack's Kafka data is for $recorded broker(s), KAFKA_BROKERS=$wanted asks for $wanted: \`make clean\` first (deletes .run/), or unset KAFKA_BROKERS"
  echo "$wanted"
}
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

# The web gateway's login (oauth2-proxy), built from source by web/install.sh into the shared cache.
OAUTH2_PROXY_VERSION="v7.15.6"
OAUTH2_PROXY_BIN="$CB_CACHE/bin/oauth2-proxy-$OAUTH2_PROXY_VERSION"
