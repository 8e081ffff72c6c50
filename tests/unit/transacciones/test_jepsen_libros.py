"""The bank test's pure book-keeping (tests/integration/transacciones/jepsen.py): the expected total per currency,
each transaction's effect, the reversal links, a reverted transfer's net and a finished hold's amounts."""

from decimal import Decimal
from typing import Any

from tests.integration.transacciones.jepsen import (
    efecto_esperado,
    libros_esperados,
    neto_revertidas,
    problemas_retencion,
    problemas_reversiones,
)

D = Decimal


def trx(id_: str, tipo: str, monto: str, estado: str = "COMPLETADA", **extra: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "transaccionId": f"TRX-{id_}",
        "tipo": tipo,
        "monto": monto,
        "estado": estado,
        "cuentaOrigenId": None,
        "cuentaDestinoId": None,
        "reversionDe": None,
        "revertidaPor": None,
    } | extra


def transfer(id_: str, a: int, b: int, monto: str, **extra: Any) -> dict[str, Any]:
    return trx(id_, "TRANSFERENCIA", monto, cuentaOrigenId=a, cuentaDestinoId=b, **extra)


APERTURAS = {1: ("PEN", D("100.00")), 2: ("PEN", D("100.00")), 3: ("USD", D("50.00"))}


def test_efecto_de_cada_tipo() -> None:
    assert efecto_esperado(trx("d", "DEPOSITO", "5.00", cuentaDestinoId=1)) == {1: D("5.00")}
    assert efecto_esperado(trx("r", "RETIRO", "5.00", cuentaOrigenId=1)) == {1: D("-5.00")}
    assert efecto_esperado(trx("p", "PAGO_SERVICIO", "2.50", cuentaOrigenId=2)) == {2: D("-2.50")}
    assert efecto_esperado(transfer("t", 1, 2, "7.00")) == {1: D("-7.00"), 2: D("7.00")}
    fx = transfer("f", 1, 3, "37.00", montoDestino="9.80", cotizacionId="c1")
    assert efecto_esperado(fx) == {1: D("-37.00"), 3: D("9.80")}


def test_libros_solo_completadas_y_las_capturas_restan_una_vez() -> None:
    finales = [
        trx("d", "DEPOSITO", "10.00", cuentaDestinoId=1),
        trx("r", "RETIRO", "3.00", cuentaOrigenId=2),
        trx("x", "RETIRO", "99.00", "FALLIDA", cuentaOrigenId=2),
        transfer("t", 1, 2, "40.00"),
    ]
    got = libros_esperados(APERTURAS, finales, [(1, D("4.00")), (2, D("0.50"))])
    assert got == {"PEN": D("200.00") + 10 - 3 - 4 - D("0.50"), "USD": D("50.00")}


def test_una_reversion_cuenta_como_su_propia_transaccion() -> None:
    finales = [
        transfer("t", 1, 2, "40.00", revertidaPor="v"),
        transfer("v", 2, 1, "40.00", reversionDe="t"),
        trx("d", "DEPOSITO", "7.00", cuentaDestinoId=1, revertidaPor="w"),
        trx("w", "RETIRO", "7.00", cuentaOrigenId=1, reversionDe="d"),
    ]
    assert libros_esperados(APERTURAS, finales, []) == {"PEN": D("200.00"), "USD": D("50.00")}


def test_fx_por_moneda() -> None:
    fx = transfer("f", 1, 3, "37.00", montoDestino="9.80")
    assert libros_esperados(APERTURAS, [fx], []) == {"PEN": D("163.00"), "USD": D("59.80")}


def test_reversiones_bien_enlazadas() -> None:
    finales = [
        transfer("t", 1, 2, "40.00", revertidaPor="v2"),
        transfer("v1", 2, 1, "40.00", estado="FALLIDA", reversionDe="t"),  # destination lacked the money then
        transfer("v2", 2, 1, "40.00", reversionDe="t"),
        transfer("u", 1, 2, "1.00"),
    ]
    assert problemas_reversiones(finales) == []


def test_reversion_doble_o_enlace_roto() -> None:
    dos = [
        transfer("t", 1, 2, "40.00", revertidaPor="v1"),
        transfer("v1", 2, 1, "40.00", reversionDe="t"),
        transfer("v2", 2, 1, "40.00", reversionDe="t"),
    ]
    assert any("reverted 2 times" in p for p in problemas_reversiones(dos))
    sin_enlace = [transfer("t", 1, 2, "40.00"), transfer("v", 2, 1, "40.00", reversionDe="t")]
    assert any("revertidaPor None" in p for p in problemas_reversiones(sin_enlace))
    huerfana = [transfer("t", 1, 2, "40.00", revertidaPor="v")]
    assert any("revertidaPor v" in p for p in problemas_reversiones(huerfana))
    mal = [transfer("t", 1, 2, "40.00", revertidaPor="v"), transfer("v", 1, 2, "40.00", reversionDe="t")]
    assert any("does not mirror" in p for p in problemas_reversiones(mal))
    de_fallida = [
        transfer("t", 1, 2, "40.00", estado="FALLIDA"),
        transfer("v", 2, 1, "40.00", estado="FALLIDA", reversionDe="t"),
    ]
    assert any("of t (FALLIDA" in p for p in problemas_reversiones(de_fallida))


def test_neto_de_revertidas() -> None:
    finales = [transfer("t", 1, 2, "40.00", revertidaPor="v"), transfer("v", 2, 1, "40.00", reversionDe="t")]
    vuelta = {"TRX-t": {1: D("-40.00"), 2: D("40.00")}, "TRX-v": {2: D("-40.00"), 1: D("40.00")}}
    assert neto_revertidas(finales, vuelta) == {}
    a_medias = {"TRX-t": {1: D("-40.00"), 2: D("40.00")}, "TRX-v": {2: D("-40.00")}}
    assert neto_revertidas(finales, a_medias) == {1: D("-40.00")}  # the reversal never credited the origin


def hold(estado: str, monto: str = "30.00", **extra: Any) -> dict[str, Any]:
    base = {"retencion_id": 7, "monto": monto, "estado": estado, "monto_capturado": None}
    return base | {"monto_liberado": None, "movimiento_id": None} | extra


def test_retencion_final_y_montos() -> None:
    assert (
        problemas_retencion(hold("CAPTURADA", monto_capturado="12.50", monto_liberado="17.50", movimiento_id=3)) == []
    )
    assert problemas_retencion(hold("CAPTURADA", monto_capturado="30.00", monto_liberado="0.00", movimiento_id=3)) == []
    assert problemas_retencion(hold("LIBERADA", monto_liberado="30.00")) == []
    assert problemas_retencion(hold("EXPIRADA", monto_liberado="30.00")) == []
    assert problemas_retencion(hold("ACTIVA")) == ["hold 7 still ACTIVA"]
    assert problemas_retencion(hold("CAPTURADA", monto_capturado="12.50", monto_liberado="17.00", movimiento_id=3))
    assert problemas_retencion(hold("CAPTURADA", monto_capturado="30.00", monto_liberado="0.00"))  # no movement
    assert problemas_retencion(hold("EXPIRADA", monto_liberado="29.99"))
