"""`bank audit`'s double-entry checks over a snapshot of the bank's own accounts, in memory."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.cuentas.asientos import balances
from services.cuentas.snapshot import PartidaDoble, Transito
from streams.replay.partida_doble import revisar

AHORA = datetime(2026, 12, 5, 12, tzinfo=UTC)
STUCK = timedelta(minutes=5)


def _pd(
    internas: dict[tuple[str, str], Decimal], clientes: dict[str, Decimal], transito: list[Transito] | None = None
) -> PartidaDoble:
    descuadrados: list[int] = []
    return PartidaDoble(balances(internas, clientes), descuadrados, 0, transito or [])


def test_libros_que_cuadran_no_dan_hallazgos() -> None:
    pd = _pd({("PEN", "CAJA"): Decimal("-100.00")}, {"PEN": Decimal("100.00")})
    r = revisar(pd, ahora=AHORA, stuck_after=STUCK)
    assert r.hallazgos == []
    assert any("PEN: customers 100.00 + internal -100.00 = 0.00" in line for line in r.resumen)


def test_dinero_creado_en_una_moneda_es_un_hallazgo() -> None:
    pd = _pd({("USD", "CAJA"): Decimal("-100.00")}, {"USD": Decimal("100.01")})
    [h] = revisar(pd, ahora=AHORA, stuck_after=STUCK).hallazgos
    assert h.tipo == "DESCUADRE_MONEDA"
    assert "USD" in h.detalle
    assert "0.01" in h.detalle


def test_movimientos_sin_asientos_son_un_hallazgo() -> None:
    pd = PartidaDoble(balances({}, {}), [7, 9], 2, [])
    [h] = revisar(pd, ahora=AHORA, stuck_after=STUCK).hallazgos
    assert h.tipo == "MOVIMIENTOS_SIN_ASIENTOS"
    assert "[7, 9]" in h.detalle


def test_transito_en_vuelo_se_cuenta_estancado_o_negativo_es_hallazgo() -> None:
    joven = Transito("T1", "PEN", Decimal("10.00"), AHORA - timedelta(seconds=5))
    viejo = Transito("T2", "PEN", Decimal("20.00"), AHORA - timedelta(minutes=6))
    negativo = Transito("T3", "EUR", Decimal("-5.00"), AHORA)
    pd = _pd({("PEN", "TRANSITO"): Decimal("30.00"), ("PEN", "CAJA"): Decimal("-30.00")}, {}, [joven, viejo, negativo])
    r = revisar(pd, ahora=AHORA, stuck_after=STUCK)
    assert [(h.tipo, "T2" in h.detalle or "T3" in h.detalle) for h in r.hallazgos] == [
        ("TRANSITO_ESTANCADO", True),
        ("TRANSITO_NEGATIVO", True),
    ]
    assert any("transfers in flight (TRANSITO): 10.00 PEN" in line for line in r.resumen)


def test_el_transito_anterior_a_lo_ya_revisado_solo_se_cuenta() -> None:
    viejo = Transito("T2", "PEN", Decimal("20.00"), AHORA - timedelta(minutes=60))
    negativo = Transito("T3", "PEN", Decimal("-5.00"), AHORA - timedelta(minutes=50))
    nuevo = Transito("T4", "PEN", Decimal("-1.00"), AHORA - timedelta(minutes=1))
    pd = _pd({("PEN", "TRANSITO"): Decimal("14.00"), ("PEN", "CAJA"): Decimal("-14.00")}, {}, [viejo, negativo, nuevo])
    r = revisar(pd, ahora=AHORA, stuck_after=STUCK, triaged_until=AHORA - timedelta(minutes=10))
    assert [h.tipo for h in r.hallazgos] == ["TRANSITO_NEGATIVO"]
    assert "T4" in r.hallazgos[0].detalle
    assert any("not reported): 2" in line for line in r.resumen)
