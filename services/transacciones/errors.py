"""The transacciones error tree, translated into HTTP answers by services.platform.app.

DomainError
├── NotFound
│   └── TransaccionNoEncontrada   404: unknown id / transaccionId
├── Conflict
│   ├── NoCancelable              409: the transaction may already have moved money
│   └── IdempotencyKeyReused      409: same Idempotency-Key, different body
└── Invalid                       422: a rule on a named field the schema cannot express
"""

from services.platform.errors import Conflict, Invalid, NotFound

__all__ = ["IdempotencyKeyReused", "Invalid", "NoCancelable", "TransaccionNoEncontrada"]


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
