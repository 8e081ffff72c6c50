"""FX conversion (fx.py): the bank's side of the pair, ISO 4217 rounding, the spread; and the FX transfer's saga."""

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.comandos import AcreditarCuenta, DebitarCuenta, RevertirDebito
from contracts.transacciones import TransaccionRegistrada, TransaccionSolicitada
from services.transacciones import fx, saga
from services.transacciones.saga import Aplicado, Orden, Rechazado
from services.transacciones.tipos_cambio import TasaVigente, fusionar

USD_PEN = fx.Tasa("USD", "PEN", Decimal("3.70"), Decimal("3.80"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_el_cliente_que_compra_dolares_paga_la_venta_y_recibe_redondeado_abajo() -> None:
    c = fx.convertir(Decimal("100.00"), "PEN", "USD", USD_PEN)
    assert c.monto_destino == Decimal("26.31")  # 100 / 3.80 = 26.315..., down to the cent
    assert c.tasa == Decimal("0.26315789")  # shown rounded down to 8 decimals
    # 26.31 USD back at the mid 3.75 = 98.6625 -> 98.66 (HALF_EVEN): the bank keeps 1.34 PEN
    assert c.ingreso == Decimal("1.34")
    assert (c.moneda_origen, c.moneda_destino, c.par) == ("PEN", "USD", "USD/PEN")


def test_el_cliente_que_vende_dolares_recibe_la_compra() -> None:
    c = fx.convertir(Decimal("100.00"), "USD", "PEN", USD_PEN)
    assert c.monto_destino == Decimal("370.00")
    assert c.tasa == Decimal("3.70000000")
    # 370.00 PEN back at 3.75 = 98.666... -> 98.67 USD: the bank keeps 1.33 USD
    assert c.ingreso == Decimal("1.33")


def test_sin_par_no_hay_tasa_y_el_par_inverso_tambien_sirve() -> None:
    tasas = {"USD/PEN": USD_PEN}
    assert fx.tasa_para(tasas, "PEN", "USD") is USD_PEN
    assert fx.tasa_para(tasas, "USD", "PEN") is USD_PEN
    with pytest.raises(fx.SinTasa):
        fx.tasa_para(tasas, "EUR", "PEN")


def test_un_monto_que_no_llega_a_la_unidad_menor_se_rechaza() -> None:
    cara = fx.Tasa("EUR", "PEN", Decimal("400"), Decimal("400"))
    with pytest.raises(fx.MontoNoConvertible):
        fx.convertir(Decimal("0.01"), "PEN", "EUR", cara)


def test_un_monto_convertido_mas_alla_del_saldo_maximo_se_rechaza() -> None:
    with pytest.raises(fx.MontoNoConvertible):
        fx.convertir(Decimal("9999999999999.99"), "USD", "PEN", USD_PEN)


def test_las_unidades_menores_son_una_tabla_iso_4217() -> None:
    assert fx.EXPONENTES == {"PEN": 2, "USD": 2, "EUR": 2}
    assert fx.unidad("USD") == Decimal("0.01")


TASA = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("500"), places=8, allow_nan=False)
MONTO = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2, allow_nan=False)


@given(
    monto=MONTO,
    compra=TASA,
    spread=st.decimals(min_value=Decimal(0), max_value=Decimal("5"), places=8, allow_nan=False),
    origen_es_base=st.booleans(),
)
def test_propiedad_nunca_se_da_mas_que_la_tasa_y_el_ingreso_no_es_negativo(
    monto: Decimal, compra: Decimal, spread: Decimal, origen_es_base: bool
) -> None:
    tasa = fx.Tasa("USD", "PEN", compra, compra + spread)
    origen, destino = ("USD", "PEN") if origen_es_base else ("PEN", "USD")
    try:
        c = fx.convertir(monto, origen, destino, tasa)  # type: ignore[arg-type]
    except fx.MontoNoConvertible:
        return
    efectiva = Fraction(tasa.compra) if origen_es_base else 1 / Fraction(tasa.venta)
    assert Fraction(c.monto_destino) <= Fraction(monto) * efectiva  # exact: never more than the rate allows
    assert Fraction(monto) * efectiva - Fraction(c.monto_destino) < Fraction(1, 100)  # and less than a cent short
    assert c.ingreso >= 0
    for value in (c.monto_destino, c.ingreso):  # exact decimals at the currency's minor unit
        assert value == value.quantize(Decimal("0.01"))
        assert value.as_tuple().exponent == -2
    assert c.monto_destino > 0
    assert c.tasa > 0
    assert c.tasa == c.tasa.quantize(Decimal("0.00000001"))
    assert Fraction(c.tasa) <= efectiva  # the shown rate is never better than the real one


def test_un_par_reemplaza_a_su_inverso_en_la_tabla() -> None:
    viejo = TasaVigente(fx.Tasa("PEN", "USD", Decimal("0.26"), Decimal("0.27")), T0, None)
    nuevo = TasaVigente(USD_PEN, T0, None)
    assert list(fusionar({"PEN/USD": viejo}, [nuevo])) == ["USD/PEN"]


def _fx_orden() -> Orden:
    return Orden(
        id="0123456789abcdef01234567",
        transaccion_id="TRX0123456789abcdef01234567",
        tipo="TRANSFERENCIA",
        monto=Decimal("100.00"),
        moneda="PEN",
        cuenta_origen_id=1,
        cuenta_destino_id=2,
        fecha=T0,
        cotizacion_id="COT1",
        monto_destino=Decimal("26.31"),
        moneda_destino="USD",
        tasa=Decimal("0.26315789"),
        ingreso=Decimal("1.34"),
    )


def test_la_transferencia_fx_debita_en_origen_y_acredita_en_destino_con_el_cambio() -> None:
    o = _fx_orden()
    inicio = saga.iniciar(o, T0)
    solicitada, debito = inicio.mensajes
    assert isinstance(solicitada, TransaccionSolicitada)
    assert (solicitada.monto_destino, solicitada.moneda_destino, solicitada.cotizacion_id) == (
        Decimal("26.31"),
        "USD",
        "COT1",
    )
    assert isinstance(debito, DebitarCuenta)
    assert (debito.monto, debito.moneda) == (Decimal("100.00"), "PEN")
    d1 = saga.avanzar(o, inicio.saga, Aplicado(debito.comando_id, 7, "111"), T0)
    assert d1 is not None
    (credito,) = d1.mensajes
    assert isinstance(credito, AcreditarCuenta)
    assert (credito.cuenta_id, credito.monto, credito.moneda) == (2, Decimal("26.31"), "USD")
    assert credito.cambio is not None
    c = credito.cambio
    assert (c.cotizacion_id, c.moneda_origen, c.monto_origen, c.tasa, c.ingreso) == (
        "COT1",
        "PEN",
        Decimal("100.00"),
        Decimal("0.26315789"),
        Decimal("1.34"),
    )
    d2 = saga.avanzar(o, d1.saga, Aplicado(credito.comando_id, 8, "222"), T0)
    assert d2 is not None
    assert d2.estado == "COMPLETADA"
    (registrada,) = d2.mensajes
    assert isinstance(registrada, TransaccionRegistrada)
    assert (registrada.monto, registrada.moneda, registrada.monto_destino) == (
        Decimal("100.00"),
        "PEN",
        Decimal("26.31"),
    )


def test_credito_fx_rechazado_devuelve_el_debito_en_la_moneda_de_origen() -> None:
    o = _fx_orden()
    inicio = saga.iniciar(o, T0)
    d1 = saga.avanzar(o, inicio.saga, Aplicado(inicio.saga.comando_id or "", 7, "111"), T0)
    assert d1 is not None
    d2 = saga.avanzar(o, d1.saga, Rechazado(d1.saga.comando_id or "", "CUENTA_BLOQUEADA", "x", 8), T0)
    assert d2 is not None
    (revertir,) = d2.mensajes
    assert isinstance(revertir, RevertirDebito)
    assert (revertir.cuenta_id, revertir.monto, revertir.moneda) == (1, Decimal("100.00"), "PEN")


def test_una_transferencia_sin_cotizacion_acredita_sin_cambio() -> None:
    o = _fx_orden().model_copy(
        update={"cotizacion_id": None, "monto_destino": None, "moneda_destino": None, "tasa": None, "ingreso": None}
    )
    s = saga.SagaState(paso="CREDITO", comando_id="c", desde=T0)
    credito = saga.comando_actual(o, s)
    assert isinstance(credito, AcreditarCuenta)
    assert (credito.monto, credito.moneda, credito.cambio) == (Decimal("100.00"), "PEN", None)
