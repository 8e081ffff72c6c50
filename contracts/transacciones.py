"""Events of the transacciones aggregate (topic bank.transacciones.v1)."""

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field

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
    # An FX transfer (it names a quote of POST /cotizaciones): the destination account is credited `monto_destino`
    # in `moneda_destino`, while monto/moneda stay what the origin account is debited. None for every other one.
    # Optional and additive: older events and readers are unaffected.
    monto_destino: PositiveMoney | None = None
    moneda_destino: Moneda | None = None
    cotizacion_id: str | None = None


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


# A rate as a decimal string (up to 8 decimals): exact, and a string column in the lake (whose decimals are money's).
TasaTexto = Annotated[str, Field(pattern=r"^\d{1,10}(\.\d{1,8})?$", examples=["3.7500"])]


class TasaCambio(BaseModel):
    """The bank's rates of one pair BASE/COTIZADA, in COTIZADA units per 1 BASE."""

    par: str = Field(pattern=r"^[A-Z]{3}/[A-Z]{3}$", examples=["USD/PEN"])
    compra: TasaTexto = Field(description="what the bank pays when it buys BASE")
    venta: TasaTexto = Field(description="what the bank charges when it sells BASE")


class TiposCambioActualizados(DomainEvent):
    """The bank's rate table changed (PUT /tipos-cambio): `tasas` is the whole table after the change, `cambiadas`
    the pairs this change set. Keyed by `version` (each change is a new version of the table)."""

    topic: ClassVar[str] = topics.TRANSACCIONES
    key_field: ClassVar[str] = "version"
    type: ClassVar[str] = "bank.transacciones.TiposCambioActualizados.v1"

    version: int
    tasas: list[TasaCambio]
    cambiadas: list[str]
    actualizado: datetime
