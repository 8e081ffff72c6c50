"""Building the events cuentas publishes (through its outbox) from what a use case just wrote."""

from datetime import datetime
from decimal import Decimal
from typing import Final, Protocol

from contracts.base import Message
from contracts.cuentas import (
    CuentaAbierta,
    CuentaEliminada,
    EstadoCuenta,
    EstadoCuentaCambiado,
    LimitesCuentaCambiados,
    MovimientoRechazado,
    RetencionCapturada,
    RetencionCreada,
    RetencionExpirada,
    RetencionLiberada,
    SaldoActualizado,
)
from contracts.envelope import AuthContext, Envelope, envelope_for
from contracts.money import Moneda
from services.cuentas.decisions import Captura, Denegado, Ventanilla
from services.cuentas.domain import Cuenta, CuentaBloqueada, LimitesDiarios, MovimientoNuevo
from services.cuentas.retenciones import Retencion

SOURCE: Final = "/cuentas"


def envelope(
    message: Message,
    *,
    correlation_id: str | None,
    causation_id: str | None = None,
    authcontext: AuthContext | None = None,
) -> Envelope:
    """`authcontext`: who caused it (a REST write's caller; for a saga reply, the command's own actor)."""
    return envelope_for(
        message, source=SOURCE, correlation_id=correlation_id, causation_id=causation_id, authcontext=authcontext
    )


def cuenta_abierta(cuenta: Cuenta) -> CuentaAbierta:
    return CuentaAbierta(
        cuenta_id=cuenta.cuenta_id,
        cliente_id=cuenta.cliente_id,
        tipo_cuenta_id=cuenta.tipo_cuenta_id,
        tipo_cuenta_nombre=cuenta.tipo_cuenta_nombre,
        numero_cuenta=cuenta.numero_cuenta,
        saldo=cuenta.saldo,
        moneda=cuenta.moneda,
        estado=cuenta.estado,
        fecha_apertura=cuenta.fecha_apertura,
    )


class CuentaNombrada(Protocol):
    """What a SaldoActualizado names of its account (a Cuenta or a CuentaBloqueada)."""

    @property
    def cuenta_id(self) -> int: ...
    @property
    def cliente_id(self) -> int: ...
    @property
    def numero_cuenta(self) -> str: ...
    @property
    def moneda(self) -> Moneda: ...


def saldo_actualizado(cuenta: CuentaNombrada, movimiento: MovimientoNuevo, movimiento_id: int) -> SaldoActualizado:
    """The event of one ledger row, whoever moved the money (apertura, teller or saga)."""
    return SaldoActualizado(
        cuenta_id=cuenta.cuenta_id,
        cliente_id=cuenta.cliente_id,
        numero_cuenta=cuenta.numero_cuenta,
        movimiento_id=movimiento_id,
        operacion=movimiento.operacion,
        causa=movimiento.causa,
        monto=movimiento.monto,
        saldo=movimiento.saldo_resultante,
        moneda=cuenta.moneda,
        fecha=movimiento.fecha,
        transaccion_id=movimiento.transaccion_id,
        comando_id=movimiento.comando_id,
        asientos=list(movimiento.asientos),
    )


def estado_cambiado(cuenta: Cuenta, anterior: EstadoCuenta, fecha: datetime) -> EstadoCuentaCambiado:
    return EstadoCuentaCambiado(
        cuenta_id=cuenta.cuenta_id,
        cliente_id=cuenta.cliente_id,
        estado_anterior=anterior,
        estado=cuenta.estado,
        fecha=fecha,
    )


def limites_cambiados(
    cuenta: CuentaBloqueada, anteriores: LimitesDiarios, nuevos: LimitesDiarios, fecha: datetime
) -> LimitesCuentaCambiados:
    return LimitesCuentaCambiados(
        cuenta_id=cuenta.cuenta_id,
        cliente_id=cuenta.cliente_id,
        moneda=cuenta.moneda,
        retiro_diario=nuevos.retiro,
        transferencia_diaria=nuevos.transferencia,
        retiro_diario_anterior=anteriores.retiro,
        transferencia_diaria_anterior=anteriores.transferencia,
        fecha=fecha,
    )


def cuenta_eliminada(cuenta_id: int, cliente_id: int, fecha: datetime) -> CuentaEliminada:
    return CuentaEliminada(cuenta_id=cuenta_id, cliente_id=cliente_id, fecha=fecha)


def rechazo_saga(denegado: Denegado, fecha: datetime) -> MovimientoRechazado:
    """The reply the orchestrator waits for when a command moved no money."""
    comando = denegado.pedido
    if isinstance(comando, Ventanilla | Captura):
        raise TypeError("a teller request is answered with an error, not with an event")
    return MovimientoRechazado(
        cuenta_id=comando.cuenta_id,
        transaccion_id=comando.transaccion_id,
        comando_id=comando.comando_id,
        operacion=denegado.operacion,
        monto=comando.monto,
        moneda=comando.moneda,
        motivo=denegado.motivo,
        detalle=denegado.detalle,
        fecha=fecha,
        cliente_id=denegado.cliente_id,
    )


# --- holds: `cuenta` is the account as it is right after the change (its saldo_disponible is announced) -------------


def retencion_creada(cuenta: CuentaBloqueada, retencion: Retencion) -> RetencionCreada:
    return RetencionCreada(
        cuenta_id=cuenta.cuenta_id,
        cliente_id=cuenta.cliente_id,
        retencion_id=retencion.retencion_id,
        monto=retencion.monto,
        moneda=cuenta.moneda,
        vence=retencion.vence,
        referencia=retencion.referencia,
        saldo_disponible=cuenta.saldo_disponible,
        fecha=retencion.creada_en,
    )


def retencion_capturada(
    cuenta: CuentaBloqueada, retencion: Retencion, capturado: Decimal, movimiento_id: int, fecha: datetime
) -> RetencionCapturada:
    return RetencionCapturada(
        cuenta_id=cuenta.cuenta_id,
        cliente_id=cuenta.cliente_id,
        retencion_id=retencion.retencion_id,
        monto=capturado,
        liberado=retencion.monto - capturado,
        movimiento_id=movimiento_id,
        moneda=cuenta.moneda,
        saldo_disponible=cuenta.saldo_disponible,
        fecha=fecha,
    )


def retencion_terminada(
    cuenta: CuentaBloqueada, retencion: Retencion, fecha: datetime, *, expirada: bool
) -> RetencionLiberada | RetencionExpirada:
    """A hold ended without money moving: voided (RetencionLiberada) or due (RetencionExpirada)."""
    comun = {
        "cuenta_id": cuenta.cuenta_id,
        "cliente_id": cuenta.cliente_id,
        "retencion_id": retencion.retencion_id,
        "monto": retencion.monto,
        "moneda": cuenta.moneda,
        "saldo_disponible": cuenta.saldo_disponible,
        "fecha": fecha,
    }
    if expirada:
        return RetencionExpirada(**comun, vence=retencion.vence)
    return RetencionLiberada(**comun)
