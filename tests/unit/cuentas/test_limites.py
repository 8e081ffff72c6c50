"""Daily limits, pure: the boundary, the Lima ledger day, which debits count against which limit, and a batch."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from contracts.comandos import DebitarCuenta, RevertirDebito
from services.cuentas.decisions import Aprobado, DebitoSaga, Denegado, Usados, Ventanilla, cupo_de, decidir
from services.cuentas.domain import (
    CuentaBloqueada,
    CupoDiario,
    LimitesDiarios,
    dia_ledger,
    limites_de_cuenta,
    ventana_del_dia,
)


def _cuenta(
    saldo: str = "5000.00", retiro: str | None = "1000.00", transferencia: str | None = None
) -> CuentaBloqueada:
    limites = LimitesDiarios(Decimal(retiro) if retiro else None, Decimal(transferencia) if transferencia else None)
    return CuentaBloqueada(1, 7, "0000000000001", Decimal(saldo), "PEN", "activa", limites=limites)


def _debito(monto: str, tipo: str | None, comando_id: str | None = None) -> DebitarCuenta:
    return DebitarCuenta(
        comando_id=comando_id or str(uuid.uuid4()),
        transaccion_id="TRX1",
        cuenta_id=1,
        monto=Decimal(monto),
        moneda="PEN",
        tipo_transaccion=tipo,
    )


def test_llegar_exacto_al_limite_pasa() -> None:
    assert CupoDiario("RETIRO", Decimal("1000.00"), Decimal("800.00")).rechazo(Decimal("200.00")) is None


def test_un_centimo_sobre_el_limite_es_rechazado_nombrando_lo_disponible() -> None:
    rechazo = CupoDiario("RETIRO", Decimal("1000.00"), Decimal("850.00")).rechazo(Decimal("150.01"))
    assert rechazo is not None
    assert rechazo.motivo == "LIMITE_DIARIO_EXCEDIDO"
    assert rechazo.detalle == "Límite diario de retiro 1000.00: disponible hoy 150.00, requerido 150.01"


def test_sin_limite_nunca_rechaza_y_limite_cero_rechaza_todo() -> None:
    assert CupoDiario("TRANSFERENCIA", None, Decimal("1E12")).rechazo(Decimal("1E12")) is None
    rechazo = CupoDiario("TRANSFERENCIA", Decimal("0.00")).rechazo(Decimal("0.01"))
    assert rechazo is not None
    assert rechazo.detalle.startswith("Límite diario de transferencia 0.00: disponible hoy 0.00")


def test_disponible_nunca_es_negativo() -> None:
    # A limit lowered below what today already used.
    assert CupoDiario("RETIRO", Decimal("100.00"), Decimal("300.00")).disponible == Decimal("0.00")


def test_el_dia_es_el_de_lima_no_el_de_utc() -> None:
    # 23:59 Lima on 5 Dec is 04:59 UTC on 6 Dec; 00:01 Lima on 6 Dec is 05:01 UTC.
    antes = datetime(2026, 12, 6, 4, 59, tzinfo=UTC)
    despues = datetime(2026, 12, 6, 5, 1, tzinfo=UTC)
    assert dia_ledger(antes) == date(2026, 12, 5)
    assert dia_ledger(despues) == date(2026, 12, 6)
    assert ventana_del_dia(antes) == (datetime(2026, 12, 5, 5, tzinfo=UTC), datetime(2026, 12, 6, 5, tzinfo=UTC))
    inicio, fin = ventana_del_dia(despues)
    assert (inicio, fin) == (datetime(2026, 12, 6, 5, tzinfo=UTC), datetime(2026, 12, 7, 5, tzinfo=UTC))
    assert not inicio <= antes < fin  # the 23:59 debit does not count on the next day
    assert inicio <= despues < fin


def test_medianoche_utc_no_parte_el_dia() -> None:
    # 19:00 and 23:30 Lima are both 5 Dec, though one is 6 Dec in UTC.
    assert dia_ledger(datetime(2026, 12, 6, 0, 0, tzinfo=UTC)) == dia_ledger(datetime(2026, 12, 6, 4, 30, tzinfo=UTC))


def test_que_debito_cuenta_contra_que_limite() -> None:
    assert cupo_de(Ventanilla(1, "DEBITO", Decimal(1))) == "RETIRO"
    assert cupo_de(Ventanilla(1, "CREDITO", Decimal(1))) is None
    assert cupo_de(_debito("1", "RETIRO")) == "RETIRO"
    assert cupo_de(_debito("1", "PAGO_SERVICIO")) == "RETIRO"
    assert cupo_de(_debito("1", "TRANSFERENCIA")) == "TRANSFERENCIA"
    assert cupo_de(_debito("1", None)) is None  # a command from before the field
    assert cupo_de(_debito("1", "OTRO")) is None


def test_lo_usado_hoy_se_suma_al_pedido() -> None:
    usados: Usados = {(1, "RETIRO"): Decimal("800.00")}
    [exacto] = decidir([Ventanilla(1, "DEBITO", Decimal("200.00"))], {1: _cuenta()}, {}, usados)
    assert isinstance(exacto, Aprobado)
    assert exacto.cupo == "RETIRO"
    assert exacto.asiento(datetime.now(UTC)).cupo_diario == "RETIRO"
    [centimo] = decidir([Ventanilla(1, "DEBITO", Decimal("200.01"))], {1: _cuenta()}, {}, usados)
    assert isinstance(centimo, Denegado)
    assert centimo.motivo == "LIMITE_DIARIO_EXCEDIDO"
    assert "disponible hoy 200.00, requerido 200.01" in centimo.detalle


def test_en_un_lote_cada_debito_ve_lo_que_usaron_los_anteriores() -> None:
    pedidos = [_debito("600.00", "RETIRO"), _debito("400.00", "PAGO_SERVICIO"), _debito("0.01", "RETIRO")]
    decisiones = decidir(pedidos, {1: _cuenta()}, {})
    assert [type(d) for d in decisiones] == [Aprobado, Aprobado, Denegado]


def test_retiro_y_transferencia_tienen_cupos_separados() -> None:
    cuenta = _cuenta(retiro="100.00", transferencia="300.00")
    decisiones = decidir(
        [_debito("100.00", "RETIRO"), _debito("300.00", "TRANSFERENCIA"), _debito("300.01", "TRANSFERENCIA")],
        {1: cuenta},
        {},
    )
    assert [type(d) for d in decisiones] == [Aprobado, Aprobado, Denegado]
    assert isinstance(decisiones[2], Denegado)
    assert decisiones[2].detalle.startswith("Límite diario de transferencia 300.00: disponible hoy 0.00")


def test_un_debito_sin_tipo_y_un_credito_no_cuentan() -> None:
    decisiones = decidir([_debito("5000.00", None)], {1: _cuenta(retiro="1.00")}, {})
    assert isinstance(decisiones[0], Aprobado)
    assert decisiones[0].cupo is None


def test_saldo_insuficiente_se_dice_antes_que_el_limite() -> None:
    [d] = decidir([Ventanilla(1, "DEBITO", Decimal("2000.00"))], {1: _cuenta(saldo="10.00")}, {})
    assert isinstance(d, Denegado)
    assert d.motivo == "SALDO_INSUFICIENTE"


def test_la_reversion_devuelve_el_cupo_de_su_debito() -> None:
    original = "TRX1-DEB"
    reversion = RevertirDebito(
        comando_id="TRX1-REV",
        transaccion_id="TRX1",
        cuenta_id=1,
        monto=Decimal("300.00"),
        moneda="PEN",
        comando_original_id=original,
    )
    cuenta = _cuenta(transferencia="300.00")
    debitos = {original: DebitoSaga(original, 1, Decimal("300.00"), cupo="TRANSFERENCIA")}
    usados: Usados = {(1, "TRANSFERENCIA"): Decimal("300.00")}
    rev, otra = decidir([reversion, _debito("300.00", "TRANSFERENCIA")], {1: cuenta}, debitos, usados)
    assert isinstance(rev, Aprobado)
    assert rev.cupo == "TRANSFERENCIA"
    assert rev.asiento(datetime.now(UTC)).cupo_diario == "TRANSFERENCIA"
    assert isinstance(otra, Aprobado)


def test_la_vista_de_limites_dice_de_donde_viene_cada_uno() -> None:
    vista = limites_de_cuenta(
        9,
        LimitesDiarios(retiro=Decimal("500.00")),
        LimitesDiarios(Decimal("1000.00"), None),
        {"RETIRO": Decimal("120.00")},
        date(2026, 12, 5),
    )
    assert (vista.retiro.limite, vista.retiro.origen, vista.retiro.usado, vista.retiro.disponible) == (
        Decimal("500.00"),
        "cuenta",
        Decimal("120.00"),
        Decimal("380.00"),
    )
    assert (vista.transferencia.limite, vista.transferencia.origen, vista.transferencia.disponible) == (
        None,
        None,
        None,
    )
    del_tipo = limites_de_cuenta(9, LimitesDiarios(), LimitesDiarios(Decimal("0.00"), None), {}, date(2026, 12, 5))
    assert del_tipo.retiro.origen == "tipo"
