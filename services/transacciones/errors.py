"""The transacciones error tree, translated into HTTP answers by services.platform.app.

DomainError
├── NotFound
│   └── TransaccionNoEncontrada   404: unknown id / transaccionId
├── Conflict
│   ├── NoCancelable              409: the transaction may already have moved money
│   └── IdempotencyKeyReused      409: same Idempotency-Key, different body
├── Invalid                       422: a rule on a named field the schema cannot express
└── Unavailable
    └── Fenced                    503: the saga's partition belongs to another instance now (ownership.py)
"""

from collections.abc import Iterable

from services.platform.errors import Conflict, Invalid, NotFound, Unavailable

__all__ = ["Fenced", "IdempotencyKeyReused", "Invalid", "NoCancelable", "TransaccionNoEncontrada"]


class TransaccionNoEncontrada(NotFound):
    error = "Transacción no encontrada"

    def __init__(self, ref: str) -> None:
        super().__init__(f"Transacción {ref} no encontrada")


class NoCancelable(Conflict):
    """Only a PENDIENTE whose first command has provably never reached Kafka can be cancelled."""

    error = "Transacción no cancelable"


class IdempotencyKeyReused(Conflict):
    error = "Idempotency-Key reutilizada"

    def __init__(self) -> None:
        super().__init__("Idempotency-Key ya usada con otro cuerpo de petición")


class Fenced(Unavailable):
    """This instance does not hold the saga's partition (any more): nothing was written; another instance owns it."""

    error = "Instancia sin la partición"

    def __init__(self, partitions: Iterable[int]) -> None:
        super().__init__(f"Las particiones {sorted(partitions)} pertenecen a otra instancia; reintente", retry_after=1)
