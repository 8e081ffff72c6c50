"""The transacciones error tree, translated into HTTP answers by services.platform.app.

DomainError
├── NotFound
│   ├── TransaccionNoEncontrada   404: unknown id / transaccionId
│   ├── CuentaNoEncontrada        404: an account unknown here (or, to a customer, someone else's)
│   └── CotizacionNoEncontrada    404: unknown cotizacionId
├── Conflict
│   ├── NoCancelable              409: the transaction may already have moved money
│   ├── NoReversible              409: not COMPLETADA, or itself a reversal
│   ├── YaRevertida               409: reversed already (or a reversal of it is in progress)
│   ├── IdempotencyKeyReused      409: same Idempotency-Key, different body
│   ├── SinTipoCambio             409: the bank quotes no rate between the two currencies
│   ├── CotizacionVencida         409: the transfer names a quote past its `vence` (COTIZACION_VENCIDA)
│   └── CotizacionUsada           409: another transaction was made at that quote (COTIZACION_USADA)
├── Invalid                       422: a rule on a named field the schema cannot express
└── Unavailable
    └── Fenced                    503: the saga's partition belongs to another instance now (ownership.py)
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from services.platform.errors import Conflict, Invalid, NotFound, Unavailable

__all__ = [
    "CotizacionNoEncontrada",
    "CotizacionUsada",
    "CotizacionVencida",
    "CuentaNoEncontrada",
    "Fenced",
    "IdempotencyKeyReused",
    "Invalid",
    "NoCancelable",
    "NoReversible",
    "SinTipoCambio",
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


class CuentaNoEncontrada(NotFound):
    """For a customer, someone else's account and no account look the same."""

    error = "Cuenta no encontrada"

    def __init__(self, cuenta_id: int | None, field: str | None = None) -> None:
        super().__init__(f"Cuenta {cuenta_id} no encontrada")
        self.field = field


class CotizacionNoEncontrada(NotFound):
    error = "Cotización no encontrada"

    def __init__(self, cotizacion_id: str) -> None:
        super().__init__(f"Cotización {cotizacion_id} no encontrada")


class SinTipoCambio(Conflict):
    """No rate converts between the two accounts' currencies: operaciones sets it with PUT /tipos-cambio."""

    error = "Sin tipo de cambio"

    def __init__(self, origen: str, destino: str) -> None:
        super().__init__(
            f"El banco no tiene tipo de cambio para convertir {origen} en {destino} (par {destino}/"
            f"{origen} u {origen}/{destino})"
        )

    def extensions(self) -> dict[str, Any]:
        return {"motivo": "SIN_TIPO_CAMBIO"}


class CotizacionVencida(Conflict):
    """A quote holds its rate until `vence`: after that the customer asks for a new one."""

    error = "Cotización vencida"

    def __init__(self, cotizacion_id: str, vence: datetime) -> None:
        super().__init__(
            f"COTIZACION_VENCIDA: la cotización {cotizacion_id} está vencida desde {vence.isoformat()}; "
            "pida una nueva cotización"
        )
        self.cotizacion_id = cotizacion_id

    def extensions(self) -> dict[str, Any]:
        return {"motivo": "COTIZACION_VENCIDA", "cotizacionId": self.cotizacion_id}


class CotizacionUsada(Conflict):
    """A quote is used by at most one transaction (an Idempotency-Key retry answers the original instead)."""

    error = "Cotización ya usada"

    def __init__(self, cotizacion_id: str, transaccion: str) -> None:
        super().__init__(
            f"COTIZACION_USADA: la cotización {cotizacion_id} ya se usó en la transacción {transaccion}; "
            "pida una nueva cotización"
        )
        self.cotizacion_id = cotizacion_id
        self.transaccion = transaccion

    def extensions(self) -> dict[str, Any]:
        return {"motivo": "COTIZACION_USADA", "cotizacionId": self.cotizacion_id, "transaccion": self.transaccion}
