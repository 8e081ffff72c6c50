"""Topic names, their partition counts and the dead-letter naming rule."""

from typing import Final

CLIENTES: Final = "bank.clientes.v1"
CUENTAS: Final = "bank.cuentas.v1"
TRANSACCIONES: Final = "bank.transacciones.v1"
CUENTAS_COMANDOS: Final = "bank.cuentas.comandos.v1"

DOMAIN_TOPICS: Final = (CLIENTES, CUENTAS, TRANSACCIONES)
ALL_TOPICS: Final = (*DOMAIN_TOPICS, CUENTAS_COMANDOS)

# Partitions bound consumer parallelism per group; 6 lets both cuentas instances and a few
# projection workers share a topic while keeping per-aggregate order (key = aggregate id).
PARTITIONS: Final[dict[str, int]] = {
    CLIENTES: 3,
    CUENTAS: 6,
    TRANSACCIONES: 6,
    CUENTAS_COMANDOS: 6,
}
DLQ_PARTITIONS: Final = 1


def dlq(topic: str) -> str:
    """The dead-letter topic of `topic`."""
    return f"{topic}.dlq"
