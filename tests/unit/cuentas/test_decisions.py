"""What cuentas decides, in memory: each command (or teller request) sees the balances the earlier ones left."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from contracts.comandos import AcreditarCuenta, DebitarCuenta, RevertirDebito
from contracts.envelope import AuthContext
from services.cuentas.decisions import (
    Aprobado,
    Comando,
    DebitoSaga,
    Denegado,
    Ventanilla,
    decidir,
    deltas,
    nuevos,
)
from services.cuentas.domain import SALDO_MAX, CuentaBloqueada


def _cuenta(cuenta_id: int = 1, saldo: str = "100.00", **kw: object) -> CuentaBloqueada:
    base: dict[str, object] = {
        "cuenta_id": cuenta_id,
        "cliente_id": 7,
        "numero_cuenta": f"{cuenta_id:013d}",
        "saldo": Decimal(saldo),
        "moneda": "PEN",
        "estado": "activa",
    }
    return CuentaBloqueada(**(base | kw))  # type: ignore[arg-type]


def _id() -> str:
    return str(uuid.uuid4())


def debitar(monto: str, cuenta_id: int = 1, moneda: str = "PEN", comando_id: str | None = None) -> DebitarCuenta:
    return DebitarCuenta(
        comando_id=comando_id or _id(), transaccion_id="TRX1", cuenta_id=cuenta_id, monto=monto, moneda=moneda
    )  # type: ignore[arg-type]


def acreditar(monto: str, cuenta_id: int = 1, moneda: str = "PEN") -> AcreditarCuenta:
    return AcreditarCuenta(comando_id=_id(), transaccion_id="TRX1", cuenta_id=cuenta_id, monto=monto, moneda=moneda)  # type: ignore[arg-type]


def revertir(original: str, monto: str, cuenta_id: int = 1) -> RevertirDebito:
    return RevertirDebito(
        comando_id=_id(),
        transaccion_id="TRX1",
        cuenta_id=cuenta_id,
        monto=monto,  # type: ignore[arg-type]
        moneda="PEN",
        comando_original_id=original,
    )


def test_debito_con_saldo_se_aplica() -> None:
    [r] = decidir([debitar("40.00")], {1: _cuenta()}, {})
    assert isinstance(r, Aprobado)
    assert (r.operacion, r.causa, r.saldo) == ("DEBITO", "SAGA", Decimal("60.00"))


def test_credito_se_aplica() -> None:
    [r] = decidir([acreditar("0.01")], {1: _cuenta()}, {})
    assert isinstance(r, Aprobado)
    assert (r.operacion, r.saldo) == ("CREDITO", Decimal("100.01"))


def test_cada_comando_ve_el_saldo_que_dejaron_los_anteriores() -> None:
    resultados = decidir([debitar("60.00"), debitar("60.00"), acreditar("30.00"), debitar("60.00")], {1: _cuenta()}, {})
    assert [type(r) for r in resultados] == [Aprobado, Denegado, Aprobado, Aprobado]
    assert [r.saldo for r in resultados if isinstance(r, Aprobado)] == [
        Decimal("40.00"),
        Decimal("70.00"),
        Decimal("10.00"),
    ]
    assert deltas(resultados) == {1: Decimal("-90.00")}


def test_motivos_de_rechazo() -> None:
    cuentas = {
        1: _cuenta(1, saldo="5.00"),
        2: _cuenta(2, estado="bloqueada"),
        3: _cuenta(3, estado="cerrada", saldo="0.00"),
        4: _cuenta(4, moneda="USD"),
        5: _cuenta(5, eliminada=True, saldo="0.00"),
    }
    comandos: list[Comando] = [
        debitar("5.01", 1),
        acreditar("1.00", 2),
        acreditar("1.00", 3),
        debitar("1.00", 4),
        acreditar("1.00", 5),
    ]
    comandos.append(debitar("1.00", 99))
    resultados = decidir(comandos, cuentas, {})
    motivos = [r.motivo for r in resultados if isinstance(r, Denegado)]
    assert motivos == [
        "SALDO_INSUFICIENTE",
        "CUENTA_BLOQUEADA",
        "CUENTA_CERRADA",
        "MONEDA_DISTINTA",
        "CUENTA_NO_EXISTE",
        "CUENTA_NO_EXISTE",
    ]
    assert all(r.detalle for r in resultados if isinstance(r, Denegado))
    assert deltas(resultados) == {}


def test_reversion_devuelve_el_debito_aunque_la_cuenta_se_haya_bloqueado() -> None:
    debito = DebitoSaga("d1", 1, Decimal("25.00"))
    [r] = decidir([revertir("d1", "25.00")], {1: _cuenta(estado="bloqueada")}, {"d1": debito})
    assert isinstance(r, Aprobado)
    assert (r.operacion, r.causa, r.saldo) == ("CREDITO", "REVERSION", Decimal("125.00"))


def test_reversion_de_un_debito_del_mismo_lote() -> None:
    d = debitar("30.00", comando_id="d1")
    resultados = decidir([d, revertir("d1", "30.00")], {1: _cuenta()}, {})
    assert [r.saldo for r in resultados if isinstance(r, Aprobado)] == [Decimal("70.00"), Decimal("100.00")]
    assert deltas(resultados) == {}


def test_un_debito_nunca_se_revierte_dos_veces() -> None:
    debito = DebitoSaga("d1", 1, Decimal("25.00"))
    first, second = decidir([revertir("d1", "25.00"), revertir("d1", "25.00")], {1: _cuenta()}, {"d1": debito})
    assert isinstance(first, Aprobado)
    assert _motivo(second) == "COMANDO_INVALIDO"
    [again] = decidir([revertir("d1", "25.00")], {1: _cuenta()}, {"d1": DebitoSaga("d1", 1, Decimal("25.00"), True)})
    assert _motivo(again) == "COMANDO_INVALIDO"


def test_revertir_lo_que_no_se_debito_se_rechaza_como_comando_invalido() -> None:
    cuentas = {1: _cuenta(), 2: _cuenta(2)}
    debito = DebitoSaga("d1", 1, Decimal("25.00"))
    unknown, other_account, other_amount = decidir(
        [revertir("nope", "25.00"), revertir("d1", "25.00", cuenta_id=2), revertir("d1", "24.00")],
        cuentas,
        {"d1": debito},
    )
    assert [_motivo(r) for r in (unknown, other_account, other_amount)] == ["COMANDO_INVALIDO"] * 3


def test_un_debito_rechazado_no_se_puede_revertir() -> None:
    resultados = decidir([debitar("500.00", comando_id="d1"), revertir("d1", "500.00")], {1: _cuenta()}, {})
    assert isinstance(resultados[0], Denegado)
    assert _motivo(resultados[1]) == "COMANDO_INVALIDO"


def test_un_credito_que_excede_el_maximo_se_rechaza_nombrando_el_limite() -> None:
    [r] = decidir([acreditar("9999999999999.99")], {1: _cuenta(saldo="0.01")}, {})
    assert isinstance(r, Denegado)
    assert (r.motivo, r.operacion, r.cliente_id) == ("SALDO_EXCEDIDO", "CREDITO", 7)
    assert "excedería el máximo por cuenta (9999999999999.99)" in r.detalle
    [hasta_el_maximo] = decidir([acreditar("9999999999999.98")], {1: _cuenta(saldo="0.01")}, {})
    assert isinstance(hasta_el_maximo, Aprobado)
    assert hasta_el_maximo.saldo == SALDO_MAX


def test_una_reversion_que_excede_el_maximo_se_rechaza() -> None:
    debito = DebitoSaga("d1", 1, Decimal("25.00"))
    [r] = decidir([revertir("d1", "25.00")], {1: _cuenta(saldo=str(SALDO_MAX))}, {"d1": debito})
    assert _motivo(r) == "SALDO_EXCEDIDO"
    assert deltas([r]) == {}


def _motivo(resultado: Aprobado | Denegado) -> str | None:
    return resultado.motivo if isinstance(resultado, Denegado) else None


def test_comandos_repetidos_se_aplican_una_vez() -> None:
    a, b = debitar("1.00"), debitar("2.00")
    assert nuevos([a, b, a], set()) == [a, b]
    assert nuevos([a, b], {a.comando_id}) == [b]


def test_ventanilla_decide_con_la_misma_regla_que_la_saga() -> None:
    retiro, deposito = Ventanilla(1, "DEBITO", Decimal("30.00")), Ventanilla(1, "CREDITO", Decimal("5.00"))
    primero, segundo = decidir([retiro, deposito], {1: _cuenta()}, {})
    assert isinstance(primero, Aprobado)
    assert isinstance(segundo, Aprobado)
    assert (primero.causa, primero.saldo) == ("RETIRO", Decimal("70.00"))
    assert (segundo.causa, segundo.saldo) == ("DEPOSITO", Decimal("75.00"))
    asiento = primero.asiento(datetime(2025, 1, 1, tzinfo=UTC))
    assert (asiento.causa, asiento.monto, asiento.saldo_resultante, asiento.comando_id) == (
        "RETIRO",
        Decimal("30.00"),
        Decimal("70.00"),
        None,
    )


def test_el_asiento_guarda_quien_hizo_el_movimiento() -> None:
    cajero = AuthContext(authtype="user", authid="cajero")
    [teller] = decidir([Ventanilla(1, "CREDITO", Decimal("5.00"))], {1: _cuenta()}, {})
    [saga] = decidir([debitar("1.00")], {1: _cuenta()}, {})
    assert isinstance(teller, Aprobado)
    assert isinstance(saga, Aprobado)
    fecha = datetime(2025, 1, 1, tzinfo=UTC)
    assert teller.asiento(fecha, cajero).actor == cajero
    assert saga.asiento(fecha, cajero).actor == cajero  # a saga movement: the command's actor, passed by the caller
    assert saga.asiento(fecha).actor is None


def test_ventanilla_rechaza_por_los_mismos_motivos() -> None:
    casos = {
        "CUENTA_BLOQUEADA": _cuenta(estado="bloqueada"),
        "CUENTA_CERRADA": _cuenta(estado="cerrada"),
        "CUENTA_NO_EXISTE": _cuenta(eliminada=True),
        "SALDO_INSUFICIENTE": _cuenta(saldo="10.00"),
    }
    for motivo, cuenta in casos.items():
        [r] = decidir([Ventanilla(1, "DEBITO", Decimal("20.00"))], {1: cuenta}, {})
        assert _motivo(r) == motivo
    [sin_cuenta] = decidir([Ventanilla(2, "CREDITO", Decimal("1.00"))], {}, {})
    assert _motivo(sin_cuenta) == "CUENTA_NO_EXISTE"
    [tope] = decidir([Ventanilla(1, "CREDITO", SALDO_MAX)], {1: _cuenta()}, {})
    assert _motivo(tope) == "SALDO_EXCEDIDO"
