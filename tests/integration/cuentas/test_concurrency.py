"""50 concurrent withdrawals on one account through the balancer (both instances): the conditional update never
overdraws, never loses an update, and every success is exactly one ledger row and one SaldoActualizado."""

import asyncio
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiomysql
import httpx

from tests.integration.auth import Bearer
from tests.integration.cuentas.conftest import Tap, saldo_y_ledger


async def test_50_retiros_concurrentes_dan_un_saldo_exacto(
    http: httpx.AsyncClient, cuenta_factory: Callable[..., Any], cuentas_tap: Tap, db: aiomysql.Pool
) -> None:
    cuenta = await cuenta_factory(saldo="1000.00")
    cuenta_id = cuenta["cuenta_id"]
    monto = Decimal("30.00")  # 33 fit in 1000.00; the other 17 must be refused

    # A client per request so the 50 really arrive at the same time on separate connections (and both instances).
    async def retiro() -> httpx.Response:
        async with httpx.AsyncClient(auth=Bearer(), base_url=str(http.base_url), timeout=30) as c:
            return await c.patch(f"/cuentas/{cuenta_id}/saldo", json={"monto": str(monto), "operacion": "retiro"})

    responses = await asyncio.gather(*(retiro() for _ in range(50)))
    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 33, 409: 17}, codes
    assert all(r.json()["detail"] == "Saldo insuficiente" for r in responses if r.status_code == 409)
    saldos_vistos = sorted(Decimal(r.json()["saldo"]) for r in responses if r.status_code == 200)
    # Each success saw its own balance: 990, 960, ..., 10 — no two withdrawals read the same saldo.
    assert saldos_vistos == [Decimal(1000) - monto * k for k in range(33, 0, -1)]

    saldo, ledger, rows = await saldo_y_ledger(db, cuenta_id)
    assert saldo == Decimal("10.00") == ledger
    assert rows == 1 + 33
    assert (await http.get(f"/cuentas/{cuenta_id}")).json()["saldo"] == "10.00"

    events = await cuentas_tap.wait_for("bank.cuentas.SaldoActualizado.v1", count=34, cuenta_id=cuenta_id)
    retiros = [e for e in events if e["causa"] == "RETIRO"]
    por_movimiento = Counter(e["movimiento_id"] for e in retiros)
    assert len(por_movimiento) == 33
    assert set(por_movimiento.values()) == {1}  # the relay publishes each outbox row once here (no crash)
    assert sorted(Decimal(e["saldo"]) for e in retiros) == saldos_vistos
