"""The transacciones error tree, translated into HTTP answers by services.platform.app.

DomainError
├── NotFound
│   └── TransaccionNoEncontrada   404: unknown id / transaccionId
├── Conflict
│   ├── NoCancelable              409: the transaction may already have moved money
│   ├── NoReversible              409: not COMPLETADA, or itself a reversal
│   ├── YaRevertida               409: reversed already (or a reversal of it is in progress)
│   └── IdempotencyKeyReused      409: same Idempotency-Key, different body
├── Invalid                       422: a rule on a named field the schema cannot express
└── Unavailable
    └── Fenced                    503: the saga's partition belongs to another instance now (ownership.py)
"""

from collections.abc import Iterable

from services.platform.errors import Conflict, Invalid, NotFound, Unavailable

__all__ = [
    "Fenced",
    "IdempotencyKeyReused",
    "Invalid",
    "NoCancelable",
    "NoReversible",
    "TransaccionNoEncontrada",
    "YaRevertida",
]


class TransaccionNoEncontrada(NotFound):
    error = "Transacción no encontrada"

    def __init__(self, ref: str) -> None:
        super().__init__(f"Transacción {ref} no encontrada")


class NoCancelable(Conflict):
    """Only a PENDIENTE whose first command has provably never reached Kafka can be cancelled."""

    error = "Transacción no cancelable"


class NoReversible(Conflict):
    """Only a COMPLETADA transaction that is not itself a reversal can be reversed."""

    error = "Transacción no reversible"


class YaRevertida(Conflict):
    """At most one reversal per transaction: this one names the reversal that holds it."""

    error = "Transacción ya revertida"

    def __init__(self, original: str, reversion: str, estado: str) -> None:
        en_curso = " (en curso)" if estado == "PENDIENTE" else ""
        super().__init__(f"La transacción {original} ya tiene la reversión {reversion}{en_curso}")
        self.reversion = reversion


class IdempotencyKeyReused(Conflict):
    error = "Idempotency-Key reutilizada"

    def __init__(self) -> None:
        super().__init__("Idempotency-Key ya usada con otro cuerpo de petición")


class Fenced(Unavailable):
    """This instance does not hold the saga's partition (any more): nothing was written; another instance owns it."""

    error = "Instancia sin la partición"

    def __init__(self, partitions: Iterable[int]) -> None:
        super().__init__(f"Las particiones {sorted(partitions)} pertenecen a otra instancia; reintente", retry_after=1)
