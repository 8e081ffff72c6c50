"""How many Kafka brokers the local stack runs (KAFKA_BROKERS) and what follows: bootstrap servers, replication."""

import os
from dataclasses import dataclass
from typing import Final

# infra/stack.sh runs broker n on 127.0.0.1:BROKER_PORTS[n-1] (its controller listener on the port after it).
BROKER_PORTS: Final = (9092, 9094, 9096)
BROKERS_ENV: Final = "KAFKA_BROKERS"


@dataclass(frozen=True)
class Replication:
    """What every topic is created with: `factor` copies; a write (acks=all) needs `min_insync` of them in sync."""

    factor: int
    min_insync: int


# One broker has no other copy to wait for. Three: a write survives losing any one broker, and with min ISR 2
# acks=all still answers while one is down (RF 3 / min ISR 3 would stop every write at the first broker restart).
SINGLE: Final = Replication(factor=1, min_insync=1)
CLUSTER: Final = Replication(factor=3, min_insync=2)


def broker_count(env: dict[str, str] | None = None) -> int:
    """KAFKA_BROKERS: 1 (the default, also when empty) or 3 (`KAFKA_BROKERS=3 make up`)."""
    raw = (os.environ if env is None else env).get(BROKERS_ENV, "").strip() or "1"
    if raw not in ("1", "3"):
        raise ValueError(f"{BROKERS_ENV} must be 1 or 3, not {raw!r}")
    return int(raw)


def bootstrap_servers(env: dict[str, str] | None = None) -> str:
    """Every local broker, so a client starting while one is down still finds the cluster."""
    return ",".join(f"127.0.0.1:{port}" for port in BROKER_PORTS[: broker_count(env)])


def replication(env: dict[str, str] | None = None) -> Replication:
    return CLUSTER if broker_count(env) >= CLUSTER.factor else SINGLE
