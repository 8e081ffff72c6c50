"""The cuentas projection: which events matter, what they change, and which accounts block a delete."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from contracts.cuentas import (
    CuentaAbierta,
    CuentaEliminada,
    EstadoCuentaCambiado,
    MovimientoRechazado,
    SaldoActualizado,
)
from contracts.envelope import Envelope, envelope_for
from services.clientes.projection import CambioCuenta, bloquea_baja, cambio_for

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def _env(event: object) -> Envelope:
    return envelope_for(event, source="/cuentas")  # type: ignore[arg-type]


def test_cuenta_abierta_trae_su_saldo_inicial() -> None:
    event = CuentaAbierta(
        cuenta_id=3,
        cliente_id=9,
        tipo_cuenta_id=1,
        tipo_cuenta_nombre="Cuenta Sueldo",
        numero_cuenta="1234567890123",
        saldo=Decimal("150.00"),
        moneda="PEN",
        estado="activa",
        fecha_apertura=NOW,
    )
    assert cambio_for(_env(event)) == CambioCuenta("abierta", 3, 9, estado="activa", saldo=Decimal("150.00"))


def test_saldo_actualizado_lleva_el_movimiento_para_ordenar() -> None:
    event = SaldoActualizado(
        cuenta_id=3,
        cliente_id=9,
        numero_cuenta="1234567890123",
        movimiento_id=42,
        operacion="DEBITO",
        causa="RETIRO",
        monto=Decimal("10.00"),
        saldo=Decimal("0.00"),
        moneda="PEN",
        fecha=NOW,
    )
    assert cambio_for(_env(event)) == CambioCuenta("saldo", 3, 9, saldo=Decimal("0.00"), movimiento_id=42)


def test_estado_y_eliminacion_de_cuenta() -> None:
    estado = EstadoCuentaCambiado(cuenta_id=3, cliente_id=9, estado_anterior="activa", estado="cerrada", fecha=NOW)
    assert cambio_for(_env(estado)) == CambioCuenta("estado", 3, 9, estado="cerrada")
    eliminada = CuentaEliminada(cuenta_id=3, cliente_id=9, fecha=NOW)
    assert cambio_for(_env(eliminada)) == CambioCuenta("eliminada", 3, 9, estado="cerrada")


def test_movimiento_rechazado_y_tipos_desconocidos_se_ignoran() -> None:
    rechazo = MovimientoRechazado(
        cuenta_id=3,
        transaccion_id="TRX1",
        comando_id="c1",
        operacion="DEBITO",
        monto=Decimal("1.00"),
        moneda="PEN",
        motivo="SALDO_INSUFICIENTE",
        detalle="",
        fecha=NOW,
    )
    assert cambio_for(_env(rechazo)) is None
    desconocido = Envelope(
        id="x",
        type="bank.cuentas.Futuro.v9",
        source="/cuentas",
        subject="3",
        topic="bank.cuentas.v1",
        time=NOW,
        data={},
        correlation_id="x",
    )
    assert cambio_for(desconocido) is None


def test_evento_relevante_malformado_falla_para_ir_a_la_dlq() -> None:
    roto = Envelope(
        id="x",
        type=SaldoActualizado.type,
        source="/cuentas",
        subject="3",
        topic="bank.cuentas.v1",
        time=NOW,
        data={"cuenta_id": 3},
        correlation_id="x",
    )
    with pytest.raises(ValidationError):
        cambio_for(roto)


@pytest.mark.parametrize(
    ("estado", "saldo", "eliminada", "bloquea"),
    [
        ("activa", Decimal("10.00"), False, True),
        ("bloqueada", Decimal("10.00"), False, True),
        ("activa", Decimal("-5.00"), False, True),
        ("activa", Decimal("0.00"), False, False),
        ("cerrada", Decimal("10.00"), False, False),
        ("activa", Decimal("10.00"), True, False),
    ],
)
def test_solo_cuentas_abiertas_con_saldo_bloquean_la_baja(
    estado: str, saldo: Decimal, eliminada: bool, bloquea: bool
) -> None:
    assert bloquea_baja(estado=estado, saldo=saldo, eliminada=eliminada) is bloquea  # type: ignore[arg-type]
