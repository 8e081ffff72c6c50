"""Pure rules of holds: the available balance (saldo − retenido) every debit and new hold is judged against, and
when a hold may be captured, voided or expires."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.cuentas import decisions
from services.cuentas.domain import CuentaBloqueada, Rechazo, decidir_movimiento
from services.cuentas.errors import CapturaExcedeRetencion, RetencionNoActiva
from services.cuentas.retenciones import (
    Retencion,
    decidir_captura,
    decidir_liberacion,
    decidir_retencion,
    espera_de_expiracion,
    validar_vence,
    vencida,
)
from services.platform.errors import Invalid

AHORA = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
CUENTA = CuentaBloqueada(7, 3, "1234567890123", Decimal("100.00"), "PEN", "activa", retenido=Decimal("30.00"))
RETENCION = Retencion(1, 7, Decimal("30.00"), "PEN", "ACTIVA", "POS-1", AHORA + timedelta(hours=1), AHORA)


def test_saldo_disponible_es_saldo_menos_retenido() -> None:
    assert CUENTA.saldo_disponible == Decimal("70.00")


def test_retiro_de_exactamente_lo_disponible_pasa() -> None:
    assert decidir_movimiento(7, CUENTA, "DEBITO", Decimal("70.00")) == Decimal("30.00")


def test_retiro_que_solo_cubre_lo_retenido_es_saldo_insuficiente_con_lo_disponible() -> None:
    rechazo = decidir_movimiento(7, CUENTA, "DEBITO", Decimal("70.01"))
    assert isinstance(rechazo, Rechazo)
    assert rechazo.motivo == "SALDO_INSUFICIENTE"
    assert rechazo.disponible == Decimal("70.00")
    assert rechazo.detalle == "Saldo insuficiente: disponible 70.00, requerido 70.01"


def test_los_creditos_y_las_reversiones_no_miran_lo_retenido() -> None:
    assert decidir_movimiento(7, CUENTA, "CREDITO", Decimal("5.00")) == Decimal("105.00")
    bloqueada = replace(CUENTA, estado="bloqueada")
    assert decidir_movimiento(7, bloqueada, "CREDITO", Decimal("5.00"), reversion=True) == Decimal("105.00")


def test_el_debito_de_la_saga_tambien_mira_lo_disponible() -> None:
    from contracts.comandos import DebitarCuenta

    debito = DebitarCuenta(cuenta_id=7, transaccion_id="TRX1", comando_id="c1", monto=Decimal("80.00"), moneda="PEN")
    [denegado] = decisions.decidir([debito], {7: CUENTA}, {})
    assert isinstance(denegado, decisions.Denegado)
    assert (denegado.motivo, denegado.disponible) == ("SALDO_INSUFICIENTE", Decimal("70.00"))


def test_una_captura_es_un_debito_causa_captura() -> None:
    liberada = replace(CUENTA, retenido=Decimal("0.00"))  # the use case releases the hold before debiting
    [aprobado] = decisions.decidir([decisions.Captura(7, Decimal("100.00"), 1)], {7: liberada}, {})
    assert isinstance(aprobado, decisions.Aprobado)
    assert (aprobado.operacion, aprobado.causa, aprobado.saldo) == ("DEBITO", "CAPTURA", Decimal("0.00"))
    assert aprobado.asiento(AHORA).comando_id is None


def test_crear_una_retencion_sigue_la_regla_del_debito() -> None:
    assert decidir_retencion(7, CUENTA, Decimal("70.00")) is None
    assert decidir_retencion(7, CUENTA, Decimal("70.01")) == Rechazo(
        "SALDO_INSUFICIENTE", "Saldo insuficiente: disponible 70.00, requerido 70.01", Decimal("70.00")
    )
    rechazo = decidir_retencion(7, replace(CUENTA, estado="bloqueada"), Decimal("1.00"))
    assert rechazo is not None
    assert rechazo.motivo == "CUENTA_BLOQUEADA"
    rechazo = decidir_retencion(7, None, Decimal("1.00"))
    assert rechazo is not None
    assert rechazo.motivo == "CUENTA_NO_EXISTE"


@pytest.mark.parametrize("vence", [AHORA, AHORA - timedelta(seconds=1), AHORA + timedelta(days=367)])
def test_vence_fuera_de_plazo_es_invalido_nombrando_el_campo(vence: datetime) -> None:
    with pytest.raises(Invalid) as info:
        validar_vence(vence, AHORA)
    assert info.value.field == "vence"


def test_captura_total_por_defecto_y_parcial() -> None:
    assert decidir_captura(RETENCION, None, AHORA) == Decimal("30.00")
    assert decidir_captura(RETENCION, Decimal("12.50"), AHORA) == Decimal("12.50")
    with pytest.raises(CapturaExcedeRetencion):
        decidir_captura(RETENCION, Decimal("30.01"), AHORA)


@pytest.mark.parametrize("estado", ["CAPTURADA", "LIBERADA", "EXPIRADA"])
def test_una_retencion_terminada_no_se_captura_ni_se_libera(estado: str) -> None:
    terminada = replace(RETENCION, estado=estado)  # type: ignore[arg-type]
    for decide in (lambda: decidir_captura(terminada, None, AHORA), lambda: decidir_liberacion(terminada, AHORA)):
        with pytest.raises(RetencionNoActiva):
            decide()


def test_una_retencion_vencida_ya_no_se_captura_aunque_la_tarea_no_haya_pasado() -> None:
    despues = RETENCION.vence
    assert vencida(RETENCION, despues)
    assert not vencida(RETENCION, despues - timedelta(microseconds=1))
    with pytest.raises(RetencionNoActiva) as info:
        decidir_captura(RETENCION, None, despues)
    assert info.value.estado == "EXPIRADA"


def test_monto_liberado() -> None:
    assert RETENCION.monto_liberado is None
    capturada = replace(RETENCION, estado="CAPTURADA", monto_capturado=Decimal("12.50"))
    assert capturada.monto_liberado == Decimal("17.50")
    assert replace(RETENCION, estado="EXPIRADA").monto_liberado == Decimal("30.00")


def test_la_tarea_de_expiracion_duerme_hasta_el_proximo_vence_y_nunca_mas_del_intervalo() -> None:
    assert espera_de_expiracion(None, AHORA, 1.0) == 1.0
    assert espera_de_expiracion(AHORA + timedelta(milliseconds=300), AHORA, 1.0) == pytest.approx(0.301)
    assert espera_de_expiracion(AHORA + timedelta(seconds=30), AHORA, 1.0) == 1.0
    # Due already (more than one look's worth, or the other instance holds the lock): looked at again soon.
    assert espera_de_expiracion(AHORA - timedelta(seconds=5), AHORA, 1.0) == pytest.approx(0.01)
