"""Double entry through the real saga (balancer :8004 -> commands -> cuentas): each kind of transaction, and each kind
of reversal, books its other side on the account of its kind, and no finished transaction leaves money in TRANSITO."""

from decimal import Decimal
from typing import Any

import aiomysql
import pytest

from tests.integration.conftest import MYSQL
from tests.integration.transacciones.conftest import Banco, CuentaFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _legs(transaccion_id: str) -> list[tuple[str, str, Decimal]]:
    """(operacion, cuenta_interna, monto) of the transaction's legs, in the order written."""
    conn = await aiomysql.connect(**MYSQL, db="cuentas", autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT m.operacion, a.cuenta_interna, a.monto FROM asientos a JOIN movimientos m USING (movimiento_id) "
                "WHERE a.transaccion_id = %s ORDER BY a.asiento_id",
                (transaccion_id,),
            )
            return [(o, c, Decimal(m)) for o, c, m in await cur.fetchall()]
    finally:
        conn.close()


async def _completada(banco: Banco, body: dict[str, Any]) -> dict[str, Any]:
    t = await banco.final({**body, "moneda": "PEN"})
    assert t["estado"] == "COMPLETADA", t
    return t


async def _revertida(banco: Banco, t: dict[str, Any]) -> dict[str, Any]:
    r = await banco.trx.post(f"/transacciones/{t['id']}/reversion")
    assert r.status_code in (201, 202), r.text
    rev = await banco.esperar_final(r.json()["id"]) if r.status_code == 202 else dict(r.json())
    assert rev["estado"] == "COMPLETADA", rev
    return rev


async def test_cada_tipo_y_su_reversion_van_contra_su_cuenta_interna(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b = await cuenta("100.00"), await cuenta("0.00")
    m = Decimal("10.00")
    casos: list[tuple[dict[str, str | int], list[tuple[str, str, Decimal]]]] = [
        ({"tipo": "DEPOSITO", "monto": "10.00", "cuentaDestinoId": a}, [("CREDITO", "CAJA", -m)]),
        ({"tipo": "RETIRO", "monto": "10.00", "cuentaOrigenId": a}, [("DEBITO", "CAJA", m)]),
        ({"tipo": "PAGO_SERVICIO", "monto": "10.00", "cuentaOrigenId": a}, [("DEBITO", "SERVICIOS_POR_PAGAR", m)]),
        (
            {"tipo": "TRANSFERENCIA", "monto": "10.00", "cuentaOrigenId": a, "cuentaDestinoId": b},
            [("DEBITO", "TRANSITO", m), ("CREDITO", "TRANSITO", -m)],
        ),
    ]
    for body, legs in casos:
        t = await _completada(banco, body)
        assert await _legs(t["transaccionId"]) == legs, body
        rev = await _revertida(banco, t)
        # The mirror transaction books the mirror legs: a deposit's reversal takes the cash back out (CAJA, not
        # TRANSITO, where nothing would ever close it), a withdrawal's or payment's gives it back as a DEPOSITO.
        espejo = {
            "DEPOSITO": [("DEBITO", "CAJA", m)],
            "RETIRO": [("CREDITO", "CAJA", -m)],
            "PAGO_SERVICIO": [("CREDITO", "CAJA", -m)],
            "TRANSFERENCIA": [("DEBITO", "TRANSITO", m), ("CREDITO", "TRANSITO", -m)],
        }[str(body["tipo"])]
        assert await _legs(rev["transaccionId"]) == espejo, rev


async def test_una_transferencia_fallida_devuelve_su_transito(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b = await cuenta("50.00"), await cuenta("0.00")
    await banco.estado_cuenta(b, "bloqueada")
    t = await banco.final(
        {"tipo": "TRANSFERENCIA", "monto": "20.00", "moneda": "PEN", "cuentaOrigenId": a, "cuentaDestinoId": b}
    )
    assert t["estado"] == "FALLIDA", t
    legs = await _legs(t["transaccionId"])
    assert legs == [("DEBITO", "TRANSITO", Decimal("20.00")), ("CREDITO", "TRANSITO", Decimal("-20.00"))]
    libros = (await banco.cuentas.get("/cuentas-internas")).json()
    assert all(x["total"] == "0.00" for x in libros), libros
