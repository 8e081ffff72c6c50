"""Double entry, in memory: which of the bank's own accounts takes the other side of each movement, and that per
currency every movement plus its legs sums to zero."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.comandos import AcreditarCuenta, Cambio, DebitarCuenta, RevertirDebito
from contracts.cuentas import Asiento, Causa, Operacion
from contracts.money import MONEDAS, Moneda
from services.cuentas.asientos import CUENTAS_INTERNAS, asientos, balances, contraparte, descuadre, firmado
from services.cuentas.decisions import Aprobado, Captura, DebitoSaga, Pedido, Ventanilla, decidir
from services.cuentas.domain import CuentaBloqueada
from services.cuentas.schemas import CuentasInternasPublic

M = Decimal("40.00")
T0 = datetime(2026, 12, 5, 12, tzinfo=UTC)


def _una(causa: Causa, operacion: Operacion, tipo: str | None = None, moneda: Moneda = "PEN") -> Asiento:
    [leg] = asientos(causa=causa, operacion=operacion, moneda=moneda, monto=M, tipo_transaccion=tipo)
    return leg


@pytest.mark.parametrize(
    ("causa", "operacion", "tipo", "cuenta", "signo"),
    [
        ("APERTURA", "CREDITO", None, "CAJA", -1),
        ("DEPOSITO", "CREDITO", None, "CAJA", -1),
        ("RETIRO", "DEBITO", None, "CAJA", 1),
        ("CAPTURA", "DEBITO", None, "LIQUIDACION_TARJETAS", 1),
        ("REVERSION", "CREDITO", None, "TRANSITO", -1),
        ("SAGA", "DEBITO", "RETIRO", "CAJA", 1),
        ("SAGA", "DEBITO", "PAGO_SERVICIO", "SERVICIOS_POR_PAGAR", 1),
        ("SAGA", "DEBITO", "REVERSION", "CAJA", 1),  # the reversal of a DEPOSITO: the cash goes back out
        ("SAGA", "DEBITO", "TRANSFERENCIA", "TRANSITO", 1),
        ("SAGA", "DEBITO", None, "TRANSITO", 1),  # a reversal's debit, or a command from before the field
        ("SAGA", "DEBITO", "ALGO_NUEVO", "TRANSITO", 1),
        ("SAGA", "CREDITO", "DEPOSITO", "CAJA", -1),
        ("SAGA", "CREDITO", "TRANSFERENCIA", "TRANSITO", -1),
        ("SAGA", "CREDITO", None, "TRANSITO", -1),
    ],
)
def test_cada_movimiento_tiene_su_contraparte(
    causa: Causa, operacion: Operacion, tipo: str | None, cuenta: str, signo: int
) -> None:
    leg = _una(causa, operacion, tipo, "USD")
    assert (leg.cuenta_interna, leg.moneda, leg.monto) == (cuenta, "USD", signo * M)
    assert contraparte(causa, operacion, tipo) == cuenta


def test_una_transferencia_cuadra_transito_al_acreditarse_o_revertirse() -> None:
    debito = _una("SAGA", "DEBITO", "TRANSFERENCIA")
    for cierre in (_una("SAGA", "CREDITO", "TRANSFERENCIA"), _una("REVERSION", "CREDITO")):
        assert debito.monto + cierre.monto == 0


def _cambio(monto_origen: str = "100.00", ingreso: str = "1.50") -> Cambio:
    return Cambio(
        cotizacion_id="q1", moneda_origen="PEN", monto_origen=monto_origen, tasa=Decimal("0.26"), ingreso=ingreso
    )


def test_un_credito_con_cambio_cierra_transito_en_origen_y_paga_desde_la_posicion_en_destino() -> None:
    legs = asientos(
        causa="SAGA",
        operacion="CREDITO",
        moneda="USD",
        monto=Decimal("25.61"),
        tipo_transaccion="TRANSFERENCIA",
        cambio=_cambio(),
    )
    assert [(a.cuenta_interna, a.moneda, a.monto) for a in legs] == [
        ("TRANSITO", "PEN", Decimal("-100.00")),
        ("POSICION_FX", "PEN", Decimal("98.50")),
        ("INGRESOS_FX", "PEN", Decimal("1.50")),
        ("POSICION_FX", "USD", Decimal("-25.61")),
    ]
    assert descuadre("CREDITO", "USD", Decimal("25.61"), legs) == {}
    # The debit it closes put exactly monto_origen into TRANSITO.
    assert _una("SAGA", "DEBITO", "TRANSFERENCIA").monto * Decimal("2.5") + legs[0].monto == 0


def test_la_reversion_de_un_cambio_deja_posicion_e_ingresos_como_antes() -> None:
    """100.00 PEN -> 26.31 USD with 1.34 PEN of spread, then its reversal at the same amounts: every internal
    account of both currencies nets to 0 (the spread given back too), and each credit balances on its own."""
    ida = asientos(
        causa="SAGA", operacion="CREDITO", moneda="USD", monto=Decimal("26.31"), cambio=_cambio(ingreso="1.34")
    )
    vuelta_cambio = Cambio(
        cotizacion_id="q1",
        moneda_origen="USD",
        monto_origen="26.31",
        tasa=Decimal("3.80083618"),
        ingreso="0.00",
        ingreso_revertido="1.34",
    )
    vuelta = asientos(causa="SAGA", operacion="CREDITO", moneda="PEN", monto=Decimal("100.00"), cambio=vuelta_cambio)
    assert descuadre("CREDITO", "PEN", Decimal("100.00"), vuelta) == {}
    assert ("INGRESOS_FX", "PEN", Decimal("-1.34")) in [(a.cuenta_interna, a.moneda, a.monto) for a in vuelta]
    debitos = [
        Asiento(cuenta_interna="TRANSITO", moneda="PEN", monto=Decimal("100.00")),  # the original's debit
        Asiento(cuenta_interna="TRANSITO", moneda="USD", monto=Decimal("26.31")),  # the reversal's debit
    ]
    neto: dict[tuple[str, str], Decimal] = {}
    for a in [*ida, *vuelta, *debitos]:
        neto[(a.cuenta_interna, a.moneda)] = neto.get((a.cuenta_interna, a.moneda), Decimal(0)) + a.monto
    assert {k: v for k, v in neto.items() if v != 0} == {}


def test_sin_margen_no_hay_asiento_de_ingreso() -> None:
    legs = asientos(
        causa="SAGA", operacion="CREDITO", moneda="USD", monto=Decimal("26.00"), cambio=_cambio(ingreso="0")
    )
    assert "INGRESOS_FX" not in {a.cuenta_interna for a in legs}
    assert descuadre("CREDITO", "USD", Decimal("26.00"), legs) == {}


def test_descuadre_nombra_la_moneda_que_no_cuadra() -> None:
    legs = [Asiento(cuenta_interna="CAJA", moneda="PEN", monto=Decimal("-39.99"))]
    assert descuadre("CREDITO", "PEN", M, legs) == {"PEN": Decimal("0.01")}
    assert descuadre("CREDITO", "PEN", M, []) == {"PEN": M}


causas = st.sampled_from(["APERTURA", "DEPOSITO", "RETIRO", "SAGA", "REVERSION", "CAPTURA"])
operaciones = st.sampled_from(["CREDITO", "DEBITO"])
tipos = st.sampled_from([None, "DEPOSITO", "RETIRO", "PAGO_SERVICIO", "TRANSFERENCIA", "OTRO"])
monedas = st.sampled_from(MONEDAS)
montos = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2)


@st.composite
def cambios(draw: st.DrawFn) -> Cambio | None:
    if draw(st.booleans()):
        return None
    origen = draw(montos)
    ingreso = draw(st.decimals(min_value=Decimal(0), max_value=origen, places=2))
    return Cambio(cotizacion_id="q", moneda_origen=draw(monedas), monto_origen=origen, tasa="1.1", ingreso=ingreso)


@given(causas, operaciones, tipos, monedas, montos, cambios())
def test_por_moneda_cada_movimiento_y_sus_asientos_suman_cero(
    causa: Causa, operacion: Operacion, tipo: str | None, moneda: Moneda, monto: Decimal, cambio: Cambio | None
) -> None:
    legs = asientos(causa=causa, operacion=operacion, moneda=moneda, monto=monto, tipo_transaccion=tipo, cambio=cambio)
    assert legs
    assert descuadre(operacion, moneda, monto, legs) == {}
    # Across currencies too, which is what the repository re-checks before writing.
    assert sum(a.monto for a in legs) == -firmado(operacion, monto)


# --- the decisions carry their legs to the ledger row -------------------------------------------------------------


def _cuenta(cuenta_id: int, moneda: Moneda = "PEN", saldo: str = "100.00") -> CuentaBloqueada:
    return CuentaBloqueada(cuenta_id, 7, f"{cuenta_id:013d}", Decimal(saldo), moneda, "activa")


C = TypeVar("C", DebitarCuenta, AcreditarCuenta, RevertirDebito)


def _cmd(cls: type[C], **kw: Any) -> C:
    base: dict[str, Any] = {"comando_id": str(uuid.uuid4()), "transaccion_id": "TRX1", "monto": M, "moneda": "PEN"}
    return cls(**(base | kw))


def _legs(
    pedido: Pedido, cuentas: dict[int, CuentaBloqueada], debitos: dict[str, DebitoSaga] | None = None
) -> list[tuple[str, str, Decimal]]:
    [d] = decidir([pedido], cuentas, debitos or {})
    assert isinstance(d, Aprobado)
    fila = d.asiento(T0)
    return [(a.cuenta_interna, a.moneda, a.monto) for a in fila.asientos]


def test_cada_pedido_aprobado_lleva_sus_asientos() -> None:
    c = {1: _cuenta(1), 2: _cuenta(2, "USD")}
    assert _legs(Ventanilla(1, "CREDITO", M), c) == [("CAJA", "PEN", -M)]
    assert _legs(Ventanilla(1, "DEBITO", M), c) == [("CAJA", "PEN", M)]
    assert _legs(Captura(1, M, 9), c) == [("LIQUIDACION_TARJETAS", "PEN", M)]
    assert _legs(_cmd(DebitarCuenta, cuenta_id=1, tipo_transaccion="PAGO_SERVICIO"), c) == [
        ("SERVICIOS_POR_PAGAR", "PEN", M)
    ]
    assert _legs(_cmd(AcreditarCuenta, cuenta_id=1, tipo_transaccion="DEPOSITO"), c) == [("CAJA", "PEN", -M)]
    assert _legs(_cmd(AcreditarCuenta, cuenta_id=1), c) == [("TRANSITO", "PEN", -M)]
    fx = _cmd(AcreditarCuenta, cuenta_id=2, moneda="USD", monto="10.00", cambio=_cambio("38.00", "0.40"))
    assert _legs(fx, c) == [
        ("TRANSITO", "PEN", Decimal("-38.00")),
        ("POSICION_FX", "PEN", Decimal("37.60")),
        ("INGRESOS_FX", "PEN", Decimal("0.40")),
        ("POSICION_FX", "USD", Decimal("-10.00")),
    ]
    revert = _cmd(RevertirDebito, cuenta_id=1, comando_original_id="D1")
    assert _legs(revert, c, {"D1": DebitoSaga("D1", 1, M)}) == [("TRANSITO", "PEN", -M)]


# --- the bank's books per currency --------------------------------------------------------------------------------


def test_los_libros_listan_cada_moneda_y_cada_cuenta_interna_y_suman_cero_si_cuadran() -> None:
    libros = balances(
        {("PEN", "CAJA"): Decimal("-150.00"), ("PEN", "TRANSITO"): Decimal("50.00")},
        {"PEN": Decimal("100.00")},
        {"PEN": Decimal("30.00")},
    )
    assert [b.moneda for b in libros] == list(MONEDAS)
    pen = libros[0]
    assert set(pen.cuentas) == set(CUENTAS_INTERNAS)
    assert (pen.cuentas["CAJA"], pen.cuentas["TRANSITO"], pen.cuentas["INGRESOS_COMISIONES"]) == (
        Decimal("-150.00"),
        Decimal("50.00"),
        Decimal("0.00"),
    )
    assert (pen.total_clientes, pen.total_internas, pen.total, pen.retenciones) == (
        Decimal("100.00"),
        Decimal("-100.00"),
        Decimal("0.00"),
        Decimal("30.00"),  # informational: not part of the total
    )
    assert all(b.total == 0 for b in libros[1:])


def test_los_totales_del_banco_superan_el_tope_de_una_cuenta() -> None:
    """Many accounts at the ceiling: the bank's totals are not bounded by one account's maximum balance."""
    mucho = Decimal("9999999999999.99") * 3
    [pen, *_] = balances({("PEN", "CAJA"): -mucho}, {"PEN": mucho})
    body = CuentasInternasPublic.de(pen).model_dump(mode="json")
    assert (body["cuentas"]["CAJA"], body["totalClientes"], body["total"]) == (
        "-29999999999999.97",
        "29999999999999.97",
        "0.00",
    )
