"""A bank test in the spirit of Jepsen's: concurrent random money movements while the saga's processes are
killed (-9) and restarted, then the books must balance exactly.

Checked afterwards: no transaction left PENDIENTE; no negative balance; every saldo equals the sum of its
ledger; the bank's total equals the opening balances plus completed deposits minus completed withdrawals and
payments; and, per transaction, the ledger shows exactly its effect (COMPLETADA) or none at all (FALLIDA) —
so no command was applied twice and no compensation was lost.
"""

import asyncio
import random
import time
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import eventually
from tests.integration.stack import kill9
from tests.integration.transacciones.conftest import FINALES, Banco, CuentaFactory, registrada

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

ACCOUNTS = 10
OPENING = Decimal("500.00")
WORKERS = 6
LOAD_SECONDS = 40.0
SETTLE_SECONDS = 120.0
# (seconds into the run, supervisor program): each is SIGKILLed; supervisor starts it again.
CHAOS = [
    (6.0, "transacciones:transacciones-1"),
    (14.0, "cuentas:cuentas-1"),
    (20.0, "transacciones:transacciones-2"),
    (27.0, "cuentas:cuentas-2"),
    (32.0, "cuentas:cuentas-1"),
]


class Cliente:
    """Posts with an Idempotency-Key and retries the same request until the service answers (it may be dead)."""

    def __init__(self, banco: Banco, deadline: float) -> None:
        self.banco = banco
        self.deadline = deadline
        self.ids: list[str] = []
        self.unanswered: list[tuple[dict[str, Any], str]] = []

    async def mover(self, body: dict[str, Any]) -> None:
        key = str(uuid.uuid4())
        while time.monotonic() < self.deadline:
            try:
                r = await self.banco.post(body, key)
            except httpx.TransportError:
                await asyncio.sleep(0.2)
                continue
            if r.status_code in (502, 503):
                await asyncio.sleep(0.2)
                continue
            assert registrada(r), r.text
            self.ids.append(r.json()["id"])
            return
        self.unanswered.append((body, key))  # asked again after the chaos: the key makes it the same request


def pedido(rng: random.Random, cuentas: list[int]) -> dict[str, Any]:
    monto = f"{rng.randint(1, 6000) / 100:.2f}"
    a, b = rng.sample(cuentas, 2)
    tipo = rng.choices(["TRANSFERENCIA", "DEPOSITO", "RETIRO", "PAGO_SERVICIO"], weights=[5, 2, 2, 1])[0]
    body: dict[str, Any] = {"tipo": tipo, "monto": monto, "moneda": "PEN", "descripcion": "jepsen"}
    if tipo == "DEPOSITO":
        return body | {"cuentaDestinoId": b}
    if tipo == "TRANSFERENCIA":
        return body | {"cuentaOrigenId": a, "cuentaDestinoId": b}
    return body | {"cuentaOrigenId": a}


async def caos(start: float) -> list[str]:
    killed = []
    for at, program in CHAOS:
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        try:
            await asyncio.to_thread(kill9, program)
            killed.append(program)
        except AssertionError:
            pass  # not running right now (still restarting from an earlier kill): nothing to kill
    return killed


async def test_el_banco_cuadra_con_procesos_matados(banco: Banco, cuenta: CuentaFactory) -> None:
    rng = random.Random()
    cuentas = [await cuenta(f"{OPENING}") for _ in range(ACCOUNTS)]
    start = time.monotonic()
    cliente = Cliente(banco, deadline=start + LOAD_SECONDS + 30)

    async def worker(seed: int) -> None:
        local = random.Random(seed)
        while time.monotonic() < start + LOAD_SECONDS:
            await cliente.mover(pedido(local, cuentas))

    chaos = asyncio.create_task(caos(start))
    await asyncio.gather(*(worker(rng.randrange(2**32)) for _ in range(WORKERS)))
    killed = await chaos
    for body, key in cliente.unanswered:
        cliente.deadline = time.monotonic() + 60
        await _retry_same(cliente, body, key)
    assert len(killed) >= 3, killed

    # -- every transaction reaches a final state ------------------------------------------------------------------
    finales = await _todas_finales(banco, set(cliente.ids), SETTLE_SECONDS)
    estados: dict[str, int] = defaultdict(int)
    for t in finales.values():
        estados[t["estado"]] += 1
    assert estados["COMPLETADA"] > 0, estados
    for c in cuentas:
        r = await banco.trx.get("/transacciones", params={"cuenta_id": c, "estado": "PENDIENTE"})
        assert r.json() == [], f"PENDIENTE left on account {c}"

    # -- the books -------------------------------------------------------------------------------------------------
    saldos = {c: await banco.saldo(c) for c in cuentas}
    ledgers = {c: await banco.movimientos(c) for c in cuentas}
    assert all(s >= 0 for s in saldos.values()), saldos
    for c in cuentas:
        suma = sum((_signed(m) for m in ledgers[c]), Decimal(0))
        assert saldos[c] == suma, f"account {c}: saldo {saldos[c]} != Σ movimientos {suma}"

    esperado = OPENING * ACCOUNTS
    for t in finales.values():
        if t["estado"] == "COMPLETADA" and t["tipo"] == "DEPOSITO":
            esperado += Decimal(t["monto"])
        elif t["estado"] == "COMPLETADA" and t["tipo"] in ("RETIRO", "PAGO_SERVICIO"):
            esperado -= Decimal(t["monto"])
    assert sum(saldos.values(), Decimal(0)) == esperado

    # -- per transaction: its exact effect, or none -------------------------------------------------------------------
    por_trx: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    comandos: dict[str, int] = defaultdict(int)
    for c, rows in ledgers.items():
        for m in rows:
            if m["transaccion_id"]:
                por_trx[m["transaccion_id"]][c] += _signed(m)
                comandos[m["comando_id"]] += 1
    assert all(n == 1 for n in comandos.values()), "a saga command was applied twice"
    for t in finales.values():
        efecto = {k: v for k, v in por_trx.get(t["transaccionId"], {}).items() if v != 0}
        if t["estado"] != "COMPLETADA":
            assert efecto == {}, (t, efecto)
            continue
        monto = Decimal(t["monto"])
        expected = {
            "DEPOSITO": {t["cuentaDestinoId"]: monto},
            "RETIRO": {t["cuentaOrigenId"]: -monto},
            "PAGO_SERVICIO": {t["cuentaOrigenId"]: -monto},
            "TRANSFERENCIA": {t["cuentaOrigenId"]: -monto, t["cuentaDestinoId"]: monto},
        }[t["tipo"]]
        assert efecto == expected, (t, efecto)


async def _retry_same(cliente: Cliente, body: dict[str, Any], key: str) -> None:
    async def answered() -> str | None:
        try:
            r = await cliente.banco.post(body, key)
        except httpx.TransportError:
            return None
        return str(r.json()["id"]) if registrada(r) else None

    timeout = max(0.0, cliente.deadline - time.monotonic())
    trx_id = await eventually(answered, timeout=timeout, interval=0.5, what=f"transacciones to answer request {key}")
    cliente.ids.append(trx_id)


async def _todas_finales(banco: Banco, ids: set[str], timeout: float) -> dict[str, dict[str, Any]]:
    finales: dict[str, dict[str, Any]] = {}
    pendientes = set(ids)

    async def ninguna_pendiente() -> bool:
        for trx_id in list(pendientes):
            try:
                r = await banco.trx.get(f"/transacciones/{trx_id}")
            except httpx.TransportError:
                return False  # transacciones is restarting: ask again next round
            if r.status_code == 200 and r.json()["estado"] in FINALES:
                finales[trx_id] = r.json()
                pendientes.discard(trx_id)
        return not pendientes

    await eventually(ninguna_pendiente, timeout=timeout, interval=0.5, what=f"all {len(ids)} transactions final")
    return finales


def _signed(m: dict[str, Any]) -> Decimal:
    monto = Decimal(m["monto"])
    return monto if m["operacion"] == "CREDITO" else -monto
