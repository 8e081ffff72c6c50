"""The money saga, pure: the command a transaction starts with, and how each reply from cuentas moves it on.

DEPOSITO       AcreditarCuenta(destino)
RETIRO, PAGO   DebitarCuenta(origen)
TRANSFERENCIA  DebitarCuenta(origen) -> AcreditarCuenta(destino); credit refused -> RevertirDebito(origen) -> FALLIDA

An FX transfer (one that names a quote, fx.py) debits and gives back in the origin currency; its credit carries the
destination amount and currency and the conversion (`Cambio`), from which cuentas books the FX legs.

A saga waits for exactly one reply at a time, named by the comando_id of its current step; any other reply
(a duplicate, a late one, one for a step already passed) decides nothing. Command ids are derived from the
transaction id and the step, so re-sending a stuck step repeats the same command and cuentas applies it once.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from beanie import PydanticObjectId
from pydantic import BaseModel, ConfigDict

from contracts.base import Command, Message
from contracts.comandos import AcreditarCuenta, Cambio, DebitarCuenta, RevertirDebito
from contracts.cuentas import MovimientoRechazado, SaldoActualizado
from contracts.money import Moneda
from contracts.transacciones import (
    EstadoTransaccion,
    TipoTransaccion,
    TransaccionFallida,
    TransaccionRegistrada,
    TransaccionSolicitada,
)

# DEBITO/CREDITO/REVERSION: waiting for that command's reply. FIN: final. REVERSION_RECHAZADA: cuentas refused to
# give a debit back (rare: credits filled the origin to the balance ceiling after the debit, or COMANDO_INVALIDO);
# the money is out of the origin account, the saga stays PENDIENTE with its motivo and `bank audit` reports it.
Paso = Literal["DEBITO", "CREDITO", "REVERSION", "FIN", "REVERSION_RECHAZADA"]
PASOS_EN_CURSO: frozenset[Paso] = frozenset({"DEBITO", "CREDITO", "REVERSION"})
ESTADOS_FINALES: frozenset[EstadoTransaccion] = frozenset({"COMPLETADA", "FALLIDA", "CANCELADA"})
MOTIVO_CANCELADA = "CANCELADA: cancelada por el cliente antes de mover dinero"

_SUFIJO: dict[Paso, str] = {"DEBITO": "DEB", "CREDITO": "CRE", "REVERSION": "REV"}
_ORDEN = {"DEB": 0, "CRE": 1, "REV": 2}  # the order in which a saga's steps can happen
_IDS = uuid.UUID("5b0e1c1e-9a43-4d51-9a0e-7c2f3b1d4e60")  # namespace of the derived CloudEvent ids


class Orden(BaseModel):
    """What was asked: the immutable facts of one transaction, as its events state them (domain.Transaccion is
    an Orden plus where it stands)."""

    model_config = ConfigDict(frozen=True)

    id: PydanticObjectId
    transaccion_id: str
    tipo: TipoTransaccion
    monto: Decimal
    moneda: Moneda
    cuenta_origen_id: int | None = None
    cuenta_destino_id: int | None = None
    descripcion: str | None = None
    fecha: datetime
    reversion_de: str | None = None  # the id of the transaction this one reverses (a reversal), else None
    # An FX transfer: what its quote fixed (the credit's amount and currency, the effective rate, the spread in
    # `moneda`); all None for a transfer within one currency.
    cotizacion_id: str | None = None
    monto_destino: Decimal | None = None
    moneda_destino: Moneda | None = None
    tasa: Decimal | None = None
    ingreso: Decimal | None = None
    # The reversal of an FX transfer: the original's spread, given back in this one's destination currency.
    ingreso_revertido: Decimal | None = None

    def cambio(self) -> Cambio | None:
        """The conversion its credit carries (None unless an FX transfer)."""
        if self.cotizacion_id is None or self.tasa is None or self.ingreso is None:
            return None
        return Cambio(
            cotizacion_id=self.cotizacion_id,
            moneda_origen=self.moneda,
            monto_origen=self.monto,
            tasa=self.tasa,
            ingreso=self.ingreso,
            ingreso_revertido=self.ingreso_revertido or Decimal("0.00"),
        )


class CuentaVista(BaseModel):
    """An account as cuentas described it in a reply (owner and number, for the final event)."""

    model_config = ConfigDict(frozen=True)

    cliente_id: int | None = None
    numero_cuenta: str | None = None


class SagaState(BaseModel):
    """Where a saga is: the step whose reply it waits for, since when, and what the replies told so far."""

    model_config = ConfigDict(frozen=True)

    paso: Paso
    comando_id: str | None = None
    desde: datetime
    intentos: int = 0
    origen: CuentaVista | None = None
    destino: CuentaVista | None = None
    motivo: str | None = None  # why it fails, kept while the debit is being given back


@dataclass(frozen=True)
class Aplicado:
    """cuentas applied the command (SaldoActualizado)."""

    comando_id: str
    cliente_id: int
    numero_cuenta: str


@dataclass(frozen=True)
class Rechazado:
    """cuentas refused the command; no money moved (MovimientoRechazado)."""

    comando_id: str
    motivo: str
    detalle: str
    cliente_id: int | None = None


Respuesta = Aplicado | Rechazado


@dataclass(frozen=True)
class Decision:
    """The saga's next state, the transaction's estado/motivo, and the messages to send (in order)."""

    saga: SagaState
    estado: EstadoTransaccion
    motivo: str | None
    mensajes: tuple[Message, ...] = ()


def comando_id(transaccion_id: str, paso: Paso) -> str:
    return f"{transaccion_id}-{_SUFIJO[paso]}"


def posterior(estado: SagaState, comando_id: str) -> bool:
    """Whether `comando_id` names a later step of this saga than the one in progress (its reply came early)."""
    if estado.paso not in PASOS_EN_CURSO or estado.comando_id is None:
        return False
    actual, _, paso = estado.comando_id.rpartition("-")
    otra, _, otro = comando_id.rpartition("-")
    return otra == actual and _ORDEN.get(otro, -1) > _ORDEN[paso]


def event_id(message: Message, intento: int = 0) -> str:
    """A CloudEvent id derived from what the message is, so deciding the same thing twice yields one id.
    Each re-send of a command is a new emission (new ce_id) of the same command (same comando_id)."""
    if isinstance(message, Command):
        return str(uuid.uuid5(_IDS, f"cmd:{getattr(message, 'comando_id', '')}:{intento}"))
    return str(uuid.uuid5(_IDS, f"{message.type}:{message.key}"))


def primer_paso(tipo: TipoTransaccion) -> Paso:
    return "CREDITO" if tipo == "DEPOSITO" else "DEBITO"


def iniciar(orden: Orden, ahora: datetime) -> Decision:
    """The saga of a new transaction: PENDIENTE, TransaccionSolicitada and the first command."""
    paso = primer_paso(orden.tipo)
    saga = SagaState(paso=paso, comando_id=comando_id(orden.transaccion_id, paso), desde=ahora)
    solicitada = TransaccionSolicitada(**_hechos(orden))
    primero = comando_actual(orden, saga)
    assert primero is not None
    return Decision(saga, "PENDIENTE", None, (solicitada, primero))


def tipo_del_debito(orden: Orden) -> str | None:
    """The kind a debit names: which daily limit it counts against and which of the bank's own accounts takes its other
    side (cuentas' rules). A reversal's debit counts against no limit (giving back money already received is the
    bank's correction, not the customer spending): a transfer back names none (its money passes TRANSITO, like any
    transfer's), the one-step reversal of a DEPOSITO names "REVERSION" (the cash goes back out: CAJA, no credit
    follows)."""
    if orden.reversion_de is None:
        return orden.tipo
    return None if orden.tipo == "TRANSFERENCIA" else "REVERSION"


def comando_actual(orden: Orden, saga: SagaState) -> Command | None:
    """The command of the step in progress (None when nothing is in progress)."""
    if saga.paso not in PASOS_EN_CURSO or saga.comando_id is None:
        return None
    base = {
        "comando_id": saga.comando_id,
        "transaccion_id": orden.transaccion_id,
        "monto": orden.monto,
        "moneda": orden.moneda,
    }
    if saga.paso == "CREDITO":
        # Its kind decides which of the bank's own accounts takes the other side (cuentas' double entry): a DEPOSITO's
        # cash (CAJA; also a reversal's, which gives back a RETIRO or PAGO_SERVICIO), a transfer's TRANSITO.
        cambio = orden.cambio()
        if cambio is not None and orden.monto_destino is not None and orden.moneda_destino is not None:
            # Only the credit is in the destination currency: the debit and its give-back stay in the origin's.
            base |= {"monto": orden.monto_destino, "moneda": orden.moneda_destino}
        return AcreditarCuenta(
            cuenta_id=_cuenta(orden.cuenta_destino_id), tipo_transaccion=orden.tipo, cambio=cambio, **base
        )
    if saga.paso == "DEBITO":
        return DebitarCuenta(cuenta_id=_cuenta(orden.cuenta_origen_id), tipo_transaccion=tipo_del_debito(orden), **base)
    return RevertirDebito(
        cuenta_id=_cuenta(orden.cuenta_origen_id),
        comando_original_id=comando_id(orden.transaccion_id, "DEBITO"),
        **base,
    )


def avanzar(orden: Orden, saga: SagaState, respuesta: Respuesta, ahora: datetime) -> Decision | None:
    """The decision a reply causes, or None when the reply is not the one awaited (duplicate, late, stray)."""
    if saga.paso not in PASOS_EN_CURSO or respuesta.comando_id != saga.comando_id:
        return None
    if saga.paso == "REVERSION":
        return _tras_reversion(orden, saga, respuesta, ahora)
    vista = CuentaVista(
        cliente_id=respuesta.cliente_id,
        numero_cuenta=respuesta.numero_cuenta if isinstance(respuesta, Aplicado) else None,
    )
    if saga.paso == "DEBITO":
        saga = saga.model_copy(update={"origen": vista})
        if isinstance(respuesta, Rechazado):
            return _fallida(orden, saga, _motivo(respuesta), ahora)
        if orden.tipo == "TRANSFERENCIA":
            siguiente = SagaState(
                paso="CREDITO",
                comando_id=comando_id(orden.transaccion_id, "CREDITO"),
                desde=ahora,
                origen=vista,
            )
            credito = comando_actual(orden, siguiente)
            assert credito is not None
            return Decision(siguiente, "PENDIENTE", None, (credito,))
        return _completada(orden, saga, ahora)
    # CREDITO
    saga = saga.model_copy(update={"destino": vista})
    if isinstance(respuesta, Aplicado):
        return _completada(orden, saga, ahora)
    if orden.tipo != "TRANSFERENCIA":
        return _fallida(orden, saga, _motivo(respuesta), ahora)
    # The debit already happened: give it back before declaring the failure.
    reversion = saga.model_copy(
        update={
            "paso": "REVERSION",
            "comando_id": comando_id(orden.transaccion_id, "REVERSION"),
            "desde": ahora,
            "intentos": 0,
            "motivo": _motivo(respuesta),
        }
    )
    revertir = comando_actual(orden, reversion)
    assert revertir is not None
    return Decision(reversion, "PENDIENTE", None, (revertir,))


def reenviar(orden: Orden, saga: SagaState, ahora: datetime) -> Decision | None:
    """Send the step in progress again (same comando_id: cuentas applies it at most once)."""
    comando = comando_actual(orden, saga)
    if comando is None:
        return None
    return Decision(
        saga.model_copy(update={"desde": ahora, "intentos": saga.intentos + 1}), "PENDIENTE", None, (comando,)
    )


def vence(saga: SagaState, espera: float, espera_maxima: float) -> datetime | None:
    """When the step in progress counts as stuck: `espera` seconds, doubling with each re-send, capped."""
    if saga.paso not in PASOS_EN_CURSO:
        return None
    return saga.desde + timedelta(seconds=min(espera_maxima, espera * 2 ** min(saga.intentos, 30)))


def cancelar(orden: Orden, saga: SagaState, estado: EstadoTransaccion, ahora: datetime) -> Decision | None:
    """CANCELADA, if the saga is still at its first step never re-sent; None otherwise.

    The caller must also know that the first command never reached Kafka (this module cannot).
    """
    if estado != "PENDIENTE" or saga.paso != primer_paso(orden.tipo) or saga.intentos != 0:
        return None
    fin = saga.model_copy(update={"paso": "FIN", "comando_id": None, "desde": ahora})
    evento = TransaccionFallida(**_hechos(orden), **_cuentas(fin), estado="CANCELADA", motivo=MOTIVO_CANCELADA)
    return Decision(fin, "CANCELADA", MOTIVO_CANCELADA, (evento,))


def primer_evento(orden: Orden) -> str:
    """The CloudEvent id of the saga's first command as first emitted (what a cancellation must keep unsent)."""
    paso = primer_paso(orden.tipo)
    inicio = SagaState(paso=paso, comando_id=comando_id(orden.transaccion_id, paso), desde=orden.fecha)
    primero = comando_actual(orden, inicio)
    return event_id(primero, 0) if primero is not None else ""


def respuesta_de(message: Message) -> tuple[str, Respuesta] | None:
    """(transaccion_id, reply) when `message` answers a saga command; None for any other cuentas event."""
    if isinstance(message, SaldoActualizado):
        if message.transaccion_id is None or message.comando_id is None:
            return None  # a teller operation, not a saga step
        return message.transaccion_id, Aplicado(message.comando_id, message.cliente_id, message.numero_cuenta)
    if isinstance(message, MovimientoRechazado):
        return message.transaccion_id, Rechazado(
            message.comando_id, message.motivo, message.detalle, message.cliente_id
        )
    return None


def _tras_reversion(orden: Orden, saga: SagaState, respuesta: Respuesta, ahora: datetime) -> Decision:
    if isinstance(respuesta, Aplicado):
        return _fallida(orden, saga, saga.motivo or "REVERTIDA", ahora)
    atascada = saga.model_copy(update={"paso": "REVERSION_RECHAZADA", "comando_id": None, "desde": ahora})
    return Decision(atascada, "PENDIENTE", f"REVERSION_RECHAZADA: {_motivo(respuesta)}")


def _completada(orden: Orden, saga: SagaState, ahora: datetime) -> Decision:
    fin = saga.model_copy(update={"paso": "FIN", "comando_id": None, "desde": ahora})
    return Decision(fin, "COMPLETADA", None, (TransaccionRegistrada(**_hechos(orden), **_cuentas(fin)),))


def _fallida(orden: Orden, saga: SagaState, motivo: str, ahora: datetime) -> Decision:
    fin = saga.model_copy(update={"paso": "FIN", "comando_id": None, "desde": ahora, "motivo": motivo})
    evento = TransaccionFallida(**_hechos(orden), **_cuentas(fin), motivo=motivo)
    return Decision(fin, "FALLIDA", motivo, (evento,))


def _motivo(rechazo: Rechazado) -> str:
    return f"{rechazo.motivo}: {rechazo.detalle}"


NO_EN_EVENTOS = frozenset({"tasa", "ingreso", "ingreso_revertido"})


def _hechos(orden: Orden) -> dict[str, object]:
    """The facts every event of the transaction carries (only Orden's fields, whatever model `orden` is)."""
    # The rate and the spread stay out of the events (the credit command carries them): an event's decimals are money.
    hechos = {name: getattr(orden, name) for name in Orden.model_fields if name not in NO_EN_EVENTOS}
    return hechos | {"id": str(orden.id)}


def _cuentas(saga: SagaState) -> dict[str, object]:
    origen = saga.origen or CuentaVista()
    destino = saga.destino or CuentaVista()
    return {
        "cliente_origen_id": origen.cliente_id,
        "cliente_destino_id": destino.cliente_id,
        "numero_cuenta_origen": origen.numero_cuenta,
        "numero_cuenta_destino": destino.numero_cuenta,
    }


def _cuenta(cuenta_id: int | None) -> int:
    if cuenta_id is None:  # domain validation guarantees the account each tipo needs
        raise ValueError("la transacción no tiene la cuenta que este paso necesita")
    return cuenta_id
