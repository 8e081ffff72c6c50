#!/usr/bin/env bash
# Runs Kafka node $1 (default 1; KRaft, combined broker+controller) in the foreground for supervisord, from the Maven jars.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

[ -d "$KAFKA_LIBS" ] || { echo "Kafka jars missing in $KAFKA_LIBS: run infra/stack.sh install" >&2; exit 1; }
NODE="${1:-1}"
NAME=kafka
[ "$NODE" -eq 1 ] || NAME="kafka-$NODE"
# Three brokers share the 2 cores and the memory with everything else: a smaller heap each (plenty for this traffic).
HEAP=(-Xms256m -Xmx1g)
[ "$(cat "$KAFKA_BROKERS_FILE" 2>/dev/null || echo 1)" -eq 1 ] || HEAP=(-Xms128m -Xmx512m)

# Heap kept modest for a 2-core dev box; G1 flags are the ones kafka-server-start.sh uses.
# ExitOnOutOfMemoryError: die loudly and let supervisord restart instead of limping along.
# TieredStopAtLevel=1 (C1 JIT only): the broker is ready with about half the CPU (measured 10.2 -> 5.8 CPU-seconds),
# which matters on 2 cores shared with the tests; C1 code is slower at peak but far beyond what this stack sends.
# KAFKA_OPTS (optional) is appended, as with Kafka's own scripts, e.g. KAFKA_OPTS=-XX:TieredStopAtLevel=4.
JVM_OPTS=(
  "${HEAP[@]}"
  -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError
  -XX:TieredStopAtLevel=1
  -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true
  -Dlog4j2.configurationFile="$CB_INFRA/kafka/log4j2.xml"
  -Dkafka.logs.dir="$CB_LOGS"
)
# shellcheck disable=SC2206 # KAFKA_OPTS is a space-separated list of JVM flags by convention
[ -z "${KAFKA_OPTS:-}" ] || JVM_OPTS+=($KAFKA_OPTS)
# Kafka acknowledges a record once it is in the page cache of every in-sync replica and leaves the fsync to the OS
# (log.flush.interval.messages defaults to "never"), trusting replication for power losses. One broker has no other
# replica: an answered record survives a kill -9 of the broker (the OS still has the pages) but not a power loss.
# durable (the default) therefore flushes the log after every append, before the produce request is answered
# (KRaft's metadata log is fsynced regardless); relaxed (CLOUDBANK_DURABILITY=relaxed) keeps Kafka's default.
DURABILITY=()
# Three brokers on one machine share its power supply too, so cluster mode flushes the same way.
[ "$(durability_for "$NAME")" = relaxed ] || DURABILITY=(--override log.flush.interval.messages=1)
MAIN=(-cp "$KAFKA_LIBS/*" kafka.Kafka "$(kafka_dir "$NODE")/server.properties" "${DURABILITY[@]}")

# Class Data Sharing: an archive of Kafka's ~6,000 loaded classes cuts startup CPU by ~40% more. The JVM writes it
# when it exits after a run with ArchiveClassesAtExit, i.e. at the first `stop`; later starts map it.
# It lives next to the jars (a refetch drops it) and is rebuilt when the JDK changes (libjvm.so newer than it).
# A truncated archive makes the JVM crash with SIGBUS, so it is written to a temp name and only moved into place
# after the JVM exited cleanly; that needs this script to wait for java instead of exec-ing it (first run only).
CDS="$KAFKA_LIBS/kafka-cds.jsa"
LIBJVM="$(dirname "$(readlink -f "$(command -v java)")")/../lib/server/libjvm.so"
if [ -s "$CDS" ] && [ "$CDS" -nt "$LIBJVM" ]; then
  exec java "${JVM_OPTS[@]}" -XX:SharedArchiveFile="$CDS" "${MAIN[@]}"
fi

rm -f "$CDS"
tmp="$CDS.$$"
java "${JVM_OPTS[@]}" -XX:ArchiveClassesAtExit="$tmp" "${MAIN[@]}" &
pid=$!
# supervisord signals the whole process group (stopasgroup); forward anyway in case only this script is signalled.
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
# A trap interrupts `wait` (which then returns 128+signal): keep waiting while java runs, then read its own status
# (bash remembers the exit status of a finished child, so the last `wait` returns it either way).
wait "$pid" || true
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || true; done
rc=0
wait "$pid" || rc=$?
# 143 = the JVM's normal exit on SIGTERM (controlled shutdown).
if [ "$rc" -eq 0 ] || [ "$rc" -eq 143 ]; then
  [ ! -s "$tmp" ] || mv -f "$tmp" "$CDS"
else
  rm -f "$tmp"
fi
exit "$rc"
