#!/usr/bin/env bash
# Runs pytest from the venv; "no tests collected" (exit 5) is a failure of the suite, not a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
# The tests derive Kafka's addresses and replication from the stack's broker count (contracts/brokers.py).
[ -n "${KAFKA_BROKERS:-}" ] || KAFKA_BROKERS="$(cat .run/kafka/brokers 2>/dev/null || true)"
export KAFKA_BROKERS
.venv/bin/pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: treating as a failure" >&2
  exit 1
fi
exit "$rc"
