#!/usr/bin/env bash
# Native local stack (Kafka, PostgreSQL, MariaDB, FerretDB, Keycloak, HAProxy under supervisord): install|start|status|stop|clean|start-apps|stop-apps.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

STACK_TIMEOUT="${STACK_TIMEOUT:-120}"   # seconds `start` waits for the infra to be healthy
APPS_TIMEOUT="${APPS_TIMEOUT:-120}"     # seconds `start-apps` waits for the health URLs
# Keycloak starts in ~20-35 s on an idle box, but minutes on a loaded one (and its first start creates its schema).
KEYCLOAK_TIMEOUT="${KEYCLOAK_TIMEOUT:-600}"
CONF="$CB_INFRA/supervisord.conf"
SV_PIDFILE="$CB_RUN/supervisord.pid"
INFRA=(postgres mariadb kafka ferretdb)
# Cluster mode (infra/lib/common.sh): brokers 2 and 3 are infra too. Exported so supervisord and every program it
# starts (services, sink) derive the same bootstrap servers and replication (contracts/brokers.py).
# stop, clean and status act on the stack as it was formatted, whatever KAFKA_BROKERS says now.
case "${1:-}" in stop | clean | status | stop-apps) unset KAFKA_BROKERS ;; esac
KAFKA_BROKERS="$(kafka_brokers)"
export KAFKA_BROKERS
EXTRA_BROKERS=()
for ((n = 2; n <= KAFKA_BROKERS; n++)); do EXTRA_BROKERS+=("kafka-$n"); done
INFRA+=("${EXTRA_BROKERS[@]}")
APT_PACKAGES=(mariadb-server haproxy "postgresql-$PG_MAJOR")
T0=$SECONDS

usage() {
  cat >&2 <<'EOF'
usage: infra/stack.sh <command>
  install             install what is missing (Debian packages, FerretDB, Kafka jars, Keycloak); no-op when all there
  start               install, initialise data dirs once, start supervisord + infra + Keycloak, wait until healthy,
                      create DBs/users
  status              one line per component with a real health probe; exit 1 if anything that should run is unhealthy
  stop                stop everything supervisord runs and supervisord itself; verify nothing is left
  clean               stop, then delete .run/ (all data and logs)
  start-apps [URL..]  start, then every non-infra supervisor group (load balancer last); wait for health URLs
  stop-apps           stop every non-infra group (load balancer first); infra keeps running
env: STACK_TIMEOUT, APPS_TIMEOUT (seconds, default 120), KEYCLOAK_TIMEOUT (default 600),
     KAFKA_BROKERS (1, the default, or 3: a 3-broker KRaft cluster on 9092/9094/9096; fixed at the first start),
     CLOUDBANK_CACHE (default ~/.cache/cloudbank), KAFKA_OPTS / KEYCLOAK_OPTS (extra JVM flags),
     CLOUDBANK_DURABILITY (durable, the default, or relaxed: no fsync, for benchmarks/tests only; README "Durability")
EOF
  exit 2
}

require_root() { [ "$(id -u)" -eq 0 ] || die "run as root (installs packages, runs postgres as the postgres user)"; }
elapsed() { echo "$((SECONDS - T0))s"; }

# probe.py needs only the stdlib: any python3 does, the venv's interpreter when there is one (pyenv shims are slow).
# -I -S: no site-packages, no user site, so every call starts in milliseconds.
PY="$CB_ROOT/.venv/bin/python"
[ -x "$PY" ] || PY="$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)"
PROBE=("$PY" -I -S "$CB_INFRA/probe.py")

# Last lines of a component's log, to explain a failure without making the user dig.
show_log() {
  local f="$CB_LOGS/$1.log"
  [ -f "$f" ] || return 0
  printf -- '--- last lines of %s ---\n' "${f#"$CB_ROOT"/}" >&2
  tail -n 25 "$f" >&2
}

# ---------------------------------------------------------------------------------------------------------------
# install: everything cached outside the checkout; each step is skipped when its result is already there.
# ---------------------------------------------------------------------------------------------------------------

apt_missing() {
  local pkg missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
  done
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v pgrep >/dev/null || missing+=(procps)        # slim images lack it
  command -v unzip >/dev/null || missing+=(unzip)         # the Keycloak distribution is a zip
  command -v python3 >/dev/null || missing+=(python3 python3-venv)
  [ "${#missing[@]}" -eq 0 ] || printf '%s\n' "${missing[@]}"
}

install_apt() {
  local missing=()
  mapfile -t missing < <(apt_missing)
  [ "${#missing[@]}" -gt 0 ] || return 0
  log "apt-get install ${missing[*]}"
  # Debian starts a freshly installed server at once (system postgres/mariadb on 5432/3306 would take our ports).
  # A policy-rc.d answering 101 ("action forbidden") prevents that; only ours is removed afterwards.
  local policy=/usr/sbin/policy-rc.d created=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  } >"$CB_LOGS/install-apt.log" 2>&1 || rc=$?
  [ -z "$created" ] || rm -f "$policy"
  [ "$rc" -eq 0 ] || { show_log install-apt; die "apt-get install failed"; }
}

ferretdb_ok() {
  # Output captured first: `... | grep -q` could SIGPIPE the binary and, with pipefail, read as a failure.
  local out
  out="$("$FERRETDB_BIN" --version 2>/dev/null)" || return 1
  grep -qx "version: $FERRETDB_BUILD" <<<"$out"
}

install_ferretdb() {
  command -v go >/dev/null || die "Go is needed to build FerretDB (install Go >= 1.21 from go.dev; it fetches its toolchain)"
  # A plain `go install ...@version` builds a binary that panics at start: FerretDB reads its version from an
  # embedded build/version/version.txt that only its release tooling writes. So: fetch the module source via the
  # Go proxy, write version.txt (as FerretDB's docs suggest), build that copy.
  local src work
  src="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$src" ] || die "go mod download of FerretDB failed"
  mkdir -p "$CB_CACHE/bin"
  rm -rf "$CB_CACHE"/ferretdb-build.*   # leftovers of an interrupted build
  work="$(mktemp -d "$CB_CACHE/ferretdb-build.XXXXXX")"
  cp -r "$src" "$work/src" && chmod -R u+w "$work/src"
  echo "$FERRETDB_BUILD" >"$work/src/build/version/version.txt"
  # The fix: the SQLite backend looks documents up by `_ferretdb_sjson->'$._id'`, but the unique `_id_` index
  # is on `_ferretdb_sjson->"_id"`. SQLite uses an expression index only for the same expression, so every
  # find/update/delete by _id scanned the whole collection (an update cost 2 ms at 200 documents, 115 ms at
  # 8,000). Spelling the lookup like the index makes it an index search (EXPLAIN QUERY PLAN: SEARCH ... USING
  # INDEX ..__id_); the JSON text compared is the same either way.
  local meta="$work/src/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" "$meta"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$meta" || die "FerretDB source changed: the _id lookup fix no longer applies"
  # Replacements and deletes by _id write without reading the document first (the patch's header says why).
  (cd "$work/src" && git apply -p1 "$CB_INFRA/ferretdb/fastpath.patch") \
    || die "FerretDB source changed: infra/ferretdb/fastpath.patch no longer applies"
  (cd "$work/src" && go build -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb)
  mv -f "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  rm -rf "$work"
  ferretdb_ok || die "FerretDB build produced an unusable binary"
}

install_kafka() {
  # The jar set is stamped with the pom's checksum (kafka_libs_ok): editing the pom refetches.
  local tmp="$KAFKA_LIBS.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$KAFKA_LIBS")"
  # Fetch into a temp dir and swap, so an interrupted download never looks complete.
  mvn -q -B -Dstyle.color=never -f "$CB_INFRA/kafka/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime
  sha256sum "$CB_INFRA/kafka/pom.xml" | cut -d' ' -f1 >"$tmp/.pom.sha256"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
}

install_keycloak() {
  # The distribution zip comes from Maven Central through the pom (like the Kafka jars); it is unpacked and built
  # (`kc.sh build`: Quarkus augmentation with our build-time options) in a temp dir that is renamed at the end, so an
  # interrupted install never looks complete.
  local tmp="$KEYCLOAK_HOME.tmp.$$"
  rm -rf "$tmp" "$KEYCLOAK_HOME".tmp.*
  mkdir -p "$tmp"
  mvn -q -B -Dstyle.color=never -f "$CB_INFRA/keycloak/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$tmp/zip" -DincludeTypes=zip -DexcludeTransitive=true
  (cd "$tmp" && unzip -q zip/keycloak-quarkus-dist-"$KEYCLOAK_VERSION".zip)
  mv "$tmp/keycloak-$KEYCLOAK_VERSION" "$tmp/home"
  # kc.sh build writes the augmented application into home/lib/quarkus; it needs no network.
  "$tmp/home/bin/kc.sh" build "${KEYCLOAK_BUILD_OPTS[@]}"
  keycloak_stamp >"$tmp/home/.cloudbank-build"
  rm -rf "$KEYCLOAK_HOME"
  mv "$tmp/home" "$KEYCLOAK_HOME"
  rm -rf "$tmp"
}

# The build is stamped with the pom's checksum and the build options: changing either reinstalls.
keycloak_stamp() { { sha256sum <"$CB_INFRA/keycloak/pom.xml"; echo "${KEYCLOAK_BUILD_OPTS[*]}"; } | sha256sum | cut -d' ' -f1; }
keycloak_ok() { [ "$(cat "$KEYCLOAK_HOME/.cloudbank-build" 2>/dev/null)" = "$(keycloak_stamp)" ]; }

kafka_libs_ok() { [ "$(cat "$KAFKA_LIBS/.pom.sha256" 2>/dev/null)" = "$(sha256sum "$CB_INFRA/kafka/pom.xml" | cut -d' ' -f1)" ]; }

cmd_install() {
  require_root
  prepare_run_dir
  mkdir -p "$CB_CACHE"
  install_apt   # first: it may bring java/maven that the Kafka step needs
  # The slow downloads/builds are independent: run them side by side, each with its own log.
  local pids=() names=() i rc=0 ok
  if ! ferretdb_ok; then
    log "building FerretDB $FERRETDB_BUILD into ${FERRETDB_BIN/#$HOME/\~} (first time only; log: .run/logs/install-ferretdb.log)"
    install_ferretdb >"$CB_LOGS/install-ferretdb.log" 2>&1 & pids+=($!); names+=(ferretdb)
  fi
  if ! kafka_libs_ok; then
    log "fetching Kafka $KAFKA_VERSION jars into ${KAFKA_LIBS/#$HOME/\~} (log: .run/logs/install-kafka.log)"
    install_kafka >"$CB_LOGS/install-kafka.log" 2>&1 & pids+=($!); names+=(kafka)
  fi
  if ! keycloak_ok; then
    log "fetching and building Keycloak $KEYCLOAK_VERSION into ${KEYCLOAK_HOME/#$HOME/\~} (first time: minutes; log: .run/logs/install-keycloak.log)"
    install_keycloak >"$CB_LOGS/install-keycloak.log" 2>&1 & pids+=($!); names+=(keycloak)
  fi
  local done_pid name
  while [ "${#pids[@]}" -gt 0 ]; do   # report each as it finishes
    if wait -n -p done_pid "${pids[@]}"; then ok=1; else ok=0; fi
    for i in "${!pids[@]}"; do
      if [ "${pids[$i]}" = "$done_pid" ]; then name="${names[$i]}"; unset "pids[$i]" "names[$i]"; fi
    done
    if [ "$ok" -eq 1 ]; then log "$name installed ($(elapsed))"
    else rc=1; show_log "install-$name"; log "$name install failed"; fi
  done
  [ "$rc" -eq 0 ] || die "install failed"
}

# ---------------------------------------------------------------------------------------------------------------
# supervisord and our processes
# ---------------------------------------------------------------------------------------------------------------

# supervisord/supervisorctl: the project venv's (infra/python.sh), else one on PATH, else a private venv in the cache.
SV_BIN=""
find_supervisor() {
  [ -z "$SV_BIN" ] || return 0
  if [ -x "$CB_ROOT/.venv/bin/supervisord" ]; then
    SV_BIN="$CB_ROOT/.venv/bin"
  elif command -v supervisord >/dev/null && command -v supervisorctl >/dev/null; then
    SV_BIN="$(dirname "$(command -v supervisord)")"
  else
    SV_BIN="$CB_CACHE/tools-venv/bin"
    if [ ! -x "$SV_BIN/supervisord" ]; then
      log "no supervisord found: installing one into ${SV_BIN%/bin}"
      { python3 -m venv "${SV_BIN%/bin}" && "$SV_BIN/pip" install -q 'supervisor>=4.2,<5'; } ||
        die "could not install supervisor (run infra/python.sh, or pip install supervisor)"
    fi
  fi
}

ctl() { find_supervisor; "$SV_BIN/supervisorctl" -c "$CONF" "$@"; }

supervisord_pid() {
  local pid
  pid="$(cat "$SV_PIDFILE" 2>/dev/null)" || return 1
  [ -n "$pid" ] && grep -qa supervisord "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

# "name state pid" for every program supervisord knows (name as group:program, like supervisorctl shows it).
sv_states() {
  supervisord_pid >/dev/null || return 0
  "${PROBE[@]}" sv-status "$CB_RUN/supervisor.sock" 2>/dev/null || true
}

# Processes of this checkout's stack: supervisord puts its socket URL in the environment of every program it starts,
# and their children inherit it. That finds exactly ours (not another checkout's, not a user's `tail -f .run/...`),
# even after supervisord itself crashed. Used to clean up leftovers and to verify `stop`.
our_pids() {
  "$PY" -I -S - "$CB_RUN" "$$" <<'EOF'
import os, sys
run = os.path.realpath(sys.argv[1])
me = {int(sys.argv[2]), os.getpid(), os.getppid()}
for pid in filter(str.isdigit, os.listdir("/proc")):
    if int(pid) in me:
        continue
    try:
        env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    except OSError:
        continue
    url = next((e[len(b"SUPERVISOR_SERVER_URL=unix://"):] for e in env if e.startswith(b"SUPERVISOR_SERVER_URL=unix://")), None)
    if url and os.path.dirname(os.path.realpath(url.decode())) == run:
        print(pid)
EOF
}

sweep_orphans() {
  local pids=()
  mapfile -t pids < <(our_pids)
  [ "${#pids[@]}" -gt 0 ] || return 0
  log "stopping leftover processes of this stack: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    mapfile -t pids < <(our_pids)
    [ "${#pids[@]}" -gt 0 ] || return 0
    sleep 0.2
  done
  log "still running after 20s, killing: ${pids[*]}"
  kill -KILL "${pids[@]}" 2>/dev/null || true
  sleep 0.5
}

# ---------------------------------------------------------------------------------------------------------------
# data directories (initialised once, each into a temp dir renamed at the end so a crash never leaves half a one)
# ---------------------------------------------------------------------------------------------------------------

as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

prepare_postgres_user() {
  id postgres >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
  # postgres must be able to walk down to .run/postgres. A checkout under a 0700 dir (/root, mktemp -d) blocks it:
  # grant search (x, not read) on exactly the dirs that lack it, and say so.
  as_postgres test -x "$CB_RUN" && return 0
  local path="" part parts
  IFS=/ read -ra parts <<<"${CB_RUN#/}"
  for part in "${parts[@]}"; do
    path="$path/$part"
    if ! as_postgres test -x "$path"; then
      chmod o+x "$path"
      log "chmod o+x $path (so the postgres user can reach .run/postgres)"
    fi
  done
}

init_postgres() {
  [ -s "$PG_DATA/PG_VERSION" ] && return 0
  local tmp="$PG_DATA.init"
  rm -rf "$tmp" && mkdir -p "$tmp" && chown postgres:postgres "$tmp" && chmod 700 "$tmp"
  # peer auth on the unix socket (stack.sh administers as the postgres OS user), passwords over TCP.
  (cd / && as_postgres "$PG_BIN/initdb" -D "$tmp" -U postgres -E UTF8 --no-locale \
    --auth-local=peer --auth-host=scram-sha-256 --no-instructions) >"$CB_LOGS/init-postgres.log" 2>&1
  mv "$tmp" "$PG_DATA"
}

init_mariadb() {
  [ -d "$MARIADB_DATA/mysql" ] && return 0
  local tmp="$MARIADB_DATA.init"
  rm -rf "$tmp"
  # root@localhost authenticates by unix socket (only the OS root can administer), no test database.
  mariadb-install-db --no-defaults --user=root --datadir="$tmp" --skip-test-db --skip-name-resolve \
    --auth-root-authentication-method=socket >"$CB_LOGS/init-mariadb.log" 2>&1
  mv "$tmp" "$MARIADB_DATA"
}

render_kafka_config() {  # $1 = node id, $2 = its data dir; rewritten on every start so edits of the template apply
  local node="$1" dir rf=1 min_isr=1 voters="" n
  dir="$(kafka_dir "$node")"
  # The same replication as contracts/brokers.py (SINGLE / CLUSTER), for the internal topics and the defaults.
  if [ "$KAFKA_BROKERS" -eq 3 ]; then rf=3; min_isr=2; fi
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do voters+="${voters:+,}$n@127.0.0.1:$(kafka_controller_port "$n")"; done
  mkdir -p "$dir"
  sed -e "s|@KAFKA_DATA@|$2|" -e "s|@NODE_ID@|$node|" -e "s|@VOTERS@|$voters|" -e "s|@PORT@|$(kafka_port "$node")|" \
    -e "s|@CONTROLLER_PORT@|$(kafka_controller_port "$node")|" -e "s|@RF@|$rf|" -e "s|@MIN_ISR@|$min_isr|" \
    "$CB_INFRA/kafka/server.properties" >"$dir/server.properties"
}

init_kafka() {  # $1 = node id
  local dir
  dir="$(kafka_dir "$1")"
  [ -f "$dir/data/meta.properties" ] && return 0
  local tmp="$dir/data.init"
  rm -rf "$tmp"
  render_kafka_config "$1" "$tmp"
  # Static quorum (controller.quorum.voters), so a plain format with our fixed cluster id, the same on every node.
  java -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$CB_INFRA/kafka/log4j2.xml" \
    kafka.tools.StorageTool format --cluster-id "$KAFKA_CLUSTER_ID" --config "$dir/server.properties" \
    >"$CB_LOGS/init-kafka-$1.log" 2>&1
  mv "$tmp" "$dir/data"
}

init_kafkas() {
  local n pids=() rc=0
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do init_kafka "$n" & pids+=($!); done
  for n in "${!pids[@]}"; do wait "${pids[$n]}" || { rc=1; show_log "init-kafka-$((n + 1))"; }; done
  [ "$rc" -eq 0 ] && echo "$KAFKA_BROKERS" >"$KAFKA_BROKERS_FILE"
}

render_kafka_configs() {
  local n
  for ((n = 1; n <= KAFKA_BROKERS; n++)); do render_kafka_config "$n" "$(kafka_dir "$n")/data"; done
}

init_data_dirs() {
  prepare_postgres_user
  mkdir -p "$CB_RUN/ferretdb" "$CB_RUN/ferretdb-state"
  local p1 p2 p3 rc=0
  init_postgres & p1=$!
  init_mariadb & p2=$!
  init_kafkas & p3=$!
  wait "$p1" || { rc=1; show_log init-postgres; }
  wait "$p2" || { rc=1; show_log init-mariadb; }
  wait "$p3" || rc=1
  [ "$rc" -eq 0 ] || die "initialising the data directories failed"
  render_kafka_configs
}

prepare_run_dir() {
  mkdir -p "$CB_LOGS"
  chmod 755 "$CB_RUN"
  # .run/ ignores itself, so git never sees it whatever the top-level .gitignore says.
  [ -f "$CB_RUN/.gitignore" ] || echo '*' >"$CB_RUN/.gitignore"
}

# ---------------------------------------------------------------------------------------------------------------
# health
# ---------------------------------------------------------------------------------------------------------------

# probe <component>: exit status = healthy?, stdout = one-line detail.
probe() {
  case "$1" in
    postgres) "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -t 2 ;;
    mariadb)
      # The way clients come in: TCP as bank (ping passes even on a wrong password, but not before the user exists).
      local out
      out="$(MYSQL_PWD=bank mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MARIADB_PORT" -u bank \
        --connect-timeout=2 ping 2>&1)" || { echo "$out" | grep -m1 -i error || echo "no answer"; return 1; }
      echo "$out" | tail -n 1 ;;
    mariadb-socket)
      # During `start`, before the bank user exists: root over the unix socket.
      mariadb-admin --no-defaults --socket="$MARIADB_SOCKET" -u root --connect-timeout=2 ping 2>&1 ;;
    kafka) "${PROBE[@]}" kafka "127.0.0.1:$KAFKA_PORT" ;;
    kafka-[23]) "${PROBE[@]}" kafka "127.0.0.1:$(kafka_port "${1#kafka-}")" ;;
    ferretdb) "${PROBE[@]}" mongo "127.0.0.1:$FERRETDB_PORT" ;;
    keycloak) "${PROBE[@]}" keycloak "http://127.0.0.1:$KEYCLOAK_PORT" "http://127.0.0.1:$KEYCLOAK_MGMT_PORT" ;;
    http://* | https://*) "${PROBE[@]}" http "$1" ;;
    *) echo "no probe"; return 1 ;;
  esac
}

# Health URLs of configured programs (health-urls.txt lines whose program supervisord knows): "program url".
health_urls() {
  local states="$1" prog url
  [ -f "$CB_INFRA/health-urls.txt" ] || return 0
  while read -r prog url _; do
    case "$prog" in '' | \#*) continue ;; esac
    if awk -v p="$prog" '{n=$1; sub(/^[^:]*:/, "", n)} $1==p || n==p {f=1} END {exit !f}' <<<"$states"; then
      echo "$prog $url"
    fi
  done <"$CB_INFRA/health-urls.txt"
}

# wait_healthy <timeout> <target>...: target = infra component or "name=url"; fails fast on a FATAL program.
wait_healthy() {
  local timeout="$1"; shift
  local deadline=$((SECONDS + timeout)) pending=("$@") still t name states
  while [ "${#pending[@]}" -gt 0 ]; do
    still=()
    for t in "${pending[@]}"; do
      if probe "${t#*=}" >/dev/null 2>&1; then log "${t%%=*} healthy ($(elapsed))"; else still+=("$t"); fi
    done
    pending=("${still[@]+"${still[@]}"}")
    [ "${#pending[@]}" -gt 0 ] || break
    states="$(sv_states)"
    for t in "${pending[@]}"; do
      name="${t%%=*}"
      if awk -v p="$name" '{n=$1; sub(/^[^:]*:/, "", n)} (n==p || $1==p) && $2=="FATAL" {f=1} END {exit !f}' <<<"$states"; then
        show_log "$name"; die "$name failed to start (supervisord gave up)"
      fi
    done
    if [ "$SECONDS" -ge "$deadline" ]; then
      for t in "${pending[@]}"; do show_log "${t%%=*}"; done
      die "not healthy after ${timeout}s: ${pending[*]%%=*}"
    fi
    sleep 0.25
  done
}

provision_databases() {
  # Idempotent, so it simply runs on every start: a dropped database or role comes back.
  # Dev-only credentials (bank/bank); CREATEDB / ALL ON *.* so tests can create throwaway databases.
  (cd / && as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DATA" -p "$PG_PORT" -U postgres -d postgres) <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bank') THEN
    CREATE ROLE bank LOGIN CREATEDB PASSWORD 'bank';
  END IF;
END $$;
SELECT 'CREATE DATABASE clientes OWNER bank' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'clientes')\gexec
SQL
  mariadb --no-defaults --socket="$MARIADB_SOCKET" -u root <<'SQL'
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS 'bank'@'%' IDENTIFIED BY 'bank';
CREATE USER IF NOT EXISTS 'bank'@'localhost' IDENTIFIED BY 'bank';
GRANT ALL PRIVILEGES ON *.* TO 'bank'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'bank'@'localhost';
CREATE DATABASE IF NOT EXISTS cuentas CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
SQL
}

# ---------------------------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------------------------

# cmd_start [no-wait-keycloak]: start-apps passes it, to wait for Keycloak alongside its apps instead of before them.
cmd_start() {
  local wait_keycloak=1
  [ "${1:-}" != no-wait-keycloak ] || wait_keycloak=""
  local durability
  durability="$(durability_wanted)"   # before anything starts: a typo in the variable must not go unnoticed
  cmd_install
  find_supervisor
  local pid states name state
  echo "$durability" >"$DURABILITY_FILE"   # what the launchers apply from now on (infra/lib/common.sh)
  if pid="$(supervisord_pid)"; then
    # Already up: apply edited/added program files, start whatever infra program is not running.
    render_kafka_configs
    ctl update >/dev/null
    states="$(sv_states)"
    for name in "${INFRA[@]}"; do
      state="$(awk -v p="infra:$name" '$1==p {print $2}' <<<"$states")"
      case "$state" in
        RUNNING | STARTING)
          # Started in the other mode (e.g. a relaxed benchmark run, then a plain `make up`): restart it, so the
          # stack never stays relaxed unless this start asked for it.
          if [ "$(cat "$DURABILITY_FILE.$name" 2>/dev/null)" != "$durability" ]; then
            log "restarting $name to apply durability=$durability"
            ctl restart "infra:$name" >/dev/null || true
          fi ;;
        *) ctl start "infra:$name" >/dev/null || true ;;
      esac
    done
    case "$(awk '$1=="keycloak" {print $2}' <<<"$states")" in
      RUNNING | STARTING) ;;
      *) ctl start "keycloak:keycloak" >/dev/null || true ;;
    esac
  else
    sweep_orphans   # a crashed supervisord leaves its children running: they hold ports and data dirs
    local busy
    local ports=("$PG_PORT" "$MARIADB_PORT" "$FERRETDB_PORT" "$KEYCLOAK_PORT" "$KEYCLOAK_MGMT_PORT") n
    for ((n = 1; n <= KAFKA_BROKERS; n++)); do ports+=("$(kafka_port "$n")" "$(kafka_controller_port "$n")"); done
    if ! busy="$("${PROBE[@]}" port-free "${ports[@]}")"; then
      ss -ltnp 2>/dev/null | grep -E ":($(IFS='|'; echo "${ports[*]}"))\b" >&2 || true
      die "ports $busy by processes outside this stack (another checkout's stack, or a system service?)"
    fi
    init_data_dirs
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # Kafka/MariaDB want many fds; children inherit the limit
    # 9>&-: the daemon must not inherit the stack lock (it would hold it for its whole life).
    "$SV_BIN/supervisord" -c "$CONF" 9>&-
    for _ in $(seq 1 50); do ctl pid >/dev/null 2>&1 && break; sleep 0.1; done
    log "supervisord started ($(elapsed))"
    # Brokers 2 and 3 are not autostart (a single-broker stack never runs them): start them with the others.
    for name in "${EXTRA_BROKERS[@]}"; do ctl start "infra:$name" >/dev/null || true; done
  fi
  wait_healthy "$STACK_TIMEOUT" postgres mariadb=mariadb-socket kafka "${EXTRA_BROKERS[@]}" ferretdb
  provision_databases
  log "infra ready in $(elapsed)"
  [ -z "$wait_keycloak" ] || wait_healthy "$KEYCLOAK_TIMEOUT" keycloak
  cmd_status || true
}

cmd_status() {
  local states urls rows=() row name state pid target i rc=0 health detail tmp
  states="$(sv_states)"
  urls="$(health_urls "$states")"
  # Rows "name state pid target": target = what to probe, "-" = nothing, "!" = unhealthy by its state alone.
  for name in "${INFRA[@]}"; do
    row="$(awk -v p="infra:$name" '$1==p {print $2, $3}' <<<"$states")"
    rows+=("$name ${row:-STOPPED -} $name")   # infra is always expected up: always probed
  done
  row="$(awk '$1=="keycloak" {print $2, $3}' <<<"$states")"
  rows+=("keycloak ${row:-STOPPED -} keycloak")
  while read -r name state pid; do
    [ -n "$name" ] && [[ "$name" != infra:* ]] && [[ "$name" != keycloak ]] || continue
    # Other programs: a stopped one is fine; a running one must pass its health URL, if it has one.
    target="$(awk -v p="$name" '{n=p; sub(/^[^:]*:/, "", n)} $1==p || $1==n {print $2; exit}' <<<"$urls")"
    case "$state" in
      STOPPED | EXITED) target=- ;;
      RUNNING | STARTING) target="${target:--}" ;;
      *) target="!" ;;
    esac
    rows+=("${name#*:} $state $pid $target")
  done <<<"$states"
  # Probe everything at once (each probe has its own timeout: 2 s, 5 s for HTTP), then print in order.
  tmp="$(mktemp -d)"
  for i in "${!rows[@]}"; do
    read -r name state pid target <<<"${rows[$i]}"
    case "$target" in
      -) case "$state" in RUNNING | STARTING) echo "- no health URL" ;; *) echo "- not started" ;; esac >"$tmp/$i" ;;
      !) echo "unhealthy see .run/logs/$name.log" >"$tmp/$i" ;;
      *) { if detail="$(probe "$target" 2>&1)"; then echo "healthy ${target#"$name"} $detail"; else echo "unhealthy ${target#"$name"} $detail"; fi; } >"$tmp/$i" & ;;
    esac
  done
  wait
  printf '%-14s %-8s %-9s %-10s %s\n' COMPONENT PID STATE HEALTH DETAIL
  if pid="$(supervisord_pid)"; then
    printf '%-14s %-8s %-9s %-10s %s\n' supervisord "$pid" RUNNING - "${CONF#"$CB_ROOT"/}"
  else
    printf '%-14s %-8s %-9s %-10s %s\n' supervisord - STOPPED - "not running"
  fi
  for i in "${!rows[@]}"; do
    read -r name state pid target <<<"${rows[$i]}"
    read -r health detail <"$tmp/$i"
    [ "$health" != unhealthy ] || rc=1
    printf '%-14s %-8s %-9s %-10s %s\n' "$name" "$pid" "$state" "$health" "$detail"
  done
  rm -rf "$tmp"
  durability_line
  return "$rc"
}

# "durability: durable|relaxed" as the running databases and broker applied it (each launcher records its mode);
# "mixed (...)" names the odd ones out, e.g. while a restart to the other mode is under way.
durability_line() {
  local name mode modes=() first="" mixed=""
  for name in "${INFRA[@]}"; do
    mode="$(cat "$DURABILITY_FILE.$name" 2>/dev/null || echo unknown)"
    modes+=("$name=$mode")
    [ -n "$first" ] || first="$mode"
    [ "$mode" = "$first" ] || mixed=1
  done
  if [ -z "$mixed" ]; then echo "durability: $first"; else echo "durability: mixed (${modes[*]})"; fi
}

cmd_stop() {
  local pid
  if pid="$(supervisord_pid)"; then
    # SIGTERM = supervisord's orderly shutdown: stops every program (postgres with SIGINT, etc.) then exits.
    log "stopping supervisord (pid $pid) and its programs"
    kill -TERM "$pid"
    # Up to 330 s: supervisord gives each program its stopwaitsecs (Keycloak's first stop writes its CDS archive).
    for _ in $(seq 1 3300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "supervisord still up after 330s, killing it"; kill -KILL "$pid" || true; fi
  fi
  sweep_orphans
  # Verify: nothing from this checkout may survive a stop (daemons found by their data paths, too).
  local left=()
  mapfile -t left < <(our_pids; pgrep -f -- "$CB_RUN/(postgres|mariadb|kafka|ferretdb|haproxy|keycloak)" || true)
  [ "${#left[@]}" -eq 0 ] || die "still running after stop: ${left[*]}"
  rm -f "$SV_PIDFILE"
  log "stopped; nothing of this stack is running ($(elapsed))"
}

cmd_clean() {
  cmd_stop
  rm -rf "$CB_RUN"
  log "deleted ${CB_RUN#"$CB_ROOT"/}/"
}

# Non-infra groups (infra and keycloak are not apps) from the supervisor status ("group:program" or a lone program), load balancer last.
app_groups() {
  sv_states | awk '{g=$1; sub(/:.*/, "", g); if (g != "infra" && g != "keycloak" && !seen[g]++) print g}' | sort | awk '$1=="lb" {lb=1; next} {print} END {if (lb) print "lb"}'
}

cmd_start_apps() {
  cmd_start no-wait-keycloak >/dev/null
  ctl update >/dev/null   # picks up program files dropped into supervisor.d/ since supervisord started
  local groups g targets=() states url prog
  groups="$(app_groups)"
  [ -n "$groups" ] || { log "no app programs configured in infra/supervisor.d/"; return 0; }
  # Group by group (each `start g:*` starts its programs in parallel); the balancer after its backends.
  for g in $groups; do
    log "starting $g:*"
    ctl start "$g:*" >/dev/null || true   # "already started" is not an error; health decides below
  done
  states="$(sv_states)"
  while read -r prog url; do [ -z "$prog" ] || targets+=("$prog=$url"); done <<<"$(health_urls "$states")"
  for url in "$@"; do targets+=("$url=$url"); done
  [ "${#targets[@]}" -eq 0 ] || wait_healthy "$APPS_TIMEOUT" "${targets[@]}"
  # Keycloak started with the infra and has been coming up meanwhile; the apps need it from their first request.
  wait_healthy "$KEYCLOAK_TIMEOUT" keycloak
  log "apps ready in $(elapsed)"
  cmd_status || true
}

cmd_stop_apps() {
  supervisord_pid >/dev/null || { log "supervisord is not running"; return 0; }
  local groups g
  groups="$(app_groups | tac)"   # load balancer first: no new requests reach instances being stopped
  for g in $groups; do
    log "stopping $g:*"
    ctl stop "$g:*" >/dev/null || true
  done
  log "apps stopped ($(elapsed))"
}

with_lock() {
  # One start/stop at a time per checkout (e.g. make targets run in parallel).
  mkdir -p "$CB_RUN"
  exec 9>"$CB_RUN/.stack.lock"
  flock -w 600 9 || die "another infra/stack.sh has held .run/.stack.lock for 10 minutes"
  "$@"
}

case "${1:-}" in
  install) cmd_install ;;
  start) with_lock cmd_start ;;
  status) cmd_status ;;
  stop) with_lock cmd_stop ;;
  clean) with_lock cmd_clean ;;
  start-apps) shift; with_lock cmd_start_apps "$@" ;;
  stop-apps) with_lock cmd_stop_apps ;;
  *) usage ;;
esac
