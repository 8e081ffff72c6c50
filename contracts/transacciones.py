"""Events of the transacciones aggregate (topic bank.transacciones.v1)."""

from datetime import datetime
from typing import ClassVar, Literal

from contracts import topics
from contracts.base import DomainEvent
from contracts.money import Moneda, PositiveMoney

TipoTransaccion = Literal["DEPOSITO", "RETIRO", "TRANSFERENCIA", "PAGO_SERVICIO"]
EstadoTransaccion = Literal["PENDIENTE", "COMPLETADA", "FALLIDA", "CANCELADA"]


class _TransaccionEvent(DomainEvent):
    topic: ClassVar[str] = topics.TRANSACCIONES
    key_field: ClassVar[str] = "transaccion_id"

    transaccion_id: str
    id: str
    tipo: TipoTransaccion
    monto: PositiveMoney
    moneda: Moneda
    cuenta_origen_id: int | None = None
    cuenta_destino_id: int | None = None
    descripcion: str | None = None
    fecha: datetime
    # A reversal (POST /transacciones/{id}/reversion) names the transaction it gives back (its `id`); None for
    # every other transaction. Optional and additive: older events and readers are unaffected.
    reversion_de: str | None = None


class TransaccionSolicitada(_TransaccionEvent):
    type: ClassVar[str] = "bank.transacciones.TransaccionSolicitada.v1"


class _TransaccionFinal(_TransaccionEvent):
    # Owners of the accounts as cuentas reported them during the saga, so read models can
    # attribute the transaction without joining other topics (None when unknown).
    cliente_origen_id: int | None = None
    cliente_destino_id: int | None = None
    numero_cuenta_origen: str | None = None
    numero_cuenta_destino: str | None = None


class TransaccionRegistrada(_TransaccionFinal):
    """The transaction completed: its money moved."""

    type: ClassVar[str] = "bank.transacciones.TransaccionRegistrada.v1"
    estado: Literal["COMPLETADA"] = "COMPLETADA"


class TransaccionFallida(_TransaccionFinal):
    """The transaction ended without moving money (any partial movement was compensated)."""

    type: ClassVar[str] = "bank.transacciones.TransaccionFallida.v1"
    estado: Literal["FALLIDA", "CANCELADA"] = "FALLIDA"
    motivo: str
