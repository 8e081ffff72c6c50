"""Building the events cuentas publishes (through its outbox) from what a use case just wrote."""

from datetime import datetime
from decimal import Decimal
from typing import Final

from contracts.base import Message
from contracts.cuentas import (
    Causa,
    CuentaAbierta,
    CuentaEliminada,
    EstadoCuenta,
    EstadoCuentaCambiado,
    MovimientoRechazado,
    Operacion,
    SaldoActualizado,
)
from contracts.envelope import AuthContext, Envelope, envelope_for
from contracts.money import Moneda
from services.cuentas.domain import Cuenta
from services.cuentas.saga import Aplicado, Rechazado

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


def saldo_actualizado(
    *,
    cuenta_id: int,
    cliente_id: int,
    numero_cuenta: str,
    moneda: Moneda,
    movimiento_id: int,
    operacion: Operacion,
    causa: Causa,
    monto: Decimal,
    saldo: Decimal,
    fecha: datetime,
    transaccion_id: str | None = None,
    comando_id: str | None = None,
) -> SaldoActualizado:
    return SaldoActualizado(
        cuenta_id=cuenta_id,
        cliente_id=cliente_id,
        numero_cuenta=numero_cuenta,
        movimiento_id=movimiento_id,
        operacion=operacion,
        causa=causa,
        monto=monto,
        saldo=saldo,
        moneda=moneda,
        fecha=fecha,
        transaccion_id=transaccion_id,
        comando_id=comando_id,
    )


def estado_cambiado(cuenta: Cuenta, anterior: EstadoCuenta, fecha: datetime) -> EstadoCuentaCambiado:
    return EstadoCuentaCambiado(
        cuenta_id=cuenta.cuenta_id,
        cliente_id=cuenta.cliente_id,
        estado_anterior=anterior,
        estado=cuenta.estado,
        fecha=fecha,
    )


def cuenta_eliminada(cuenta_id: int, cliente_id: int, fecha: datetime) -> CuentaEliminada:
    return CuentaEliminada(cuenta_id=cuenta_id, cliente_id=cliente_id, fecha=fecha)


def respuesta_saga(resultado: Aplicado | Rechazado, movimiento_id: int | None, fecha: datetime) -> Message:
    """The reply the orchestrator waits for: SaldoActualizado (money moved) or MovimientoRechazado."""
    comando = resultado.comando
    if isinstance(resultado, Rechazado):
        return MovimientoRechazado(
            cuenta_id=comando.cuenta_id,
            transaccion_id=comando.transaccion_id,
            comando_id=comando.comando_id,
            operacion=resultado.operacion,
            monto=comando.monto,
            moneda=comando.moneda,
            motivo=resultado.motivo,
            detalle=resultado.detalle,
            fecha=fecha,
            cliente_id=resultado.cliente_id,
        )
    assert movimiento_id is not None
    cuenta = resultado.cuenta
    return saldo_actualizado(
        cuenta_id=cuenta.cuenta_id,
        cliente_id=cuenta.cliente_id,
        numero_cuenta=cuenta.numero_cuenta,
        moneda=cuenta.moneda,
        movimiento_id=movimiento_id,
        operacion=resultado.operacion,
        causa=resultado.causa,
        monto=comando.monto,
        saldo=resultado.saldo,
        fecha=fecha,
        transaccion_id=comando.transaccion_id,
        comando_id=comando.comando_id,
    )
