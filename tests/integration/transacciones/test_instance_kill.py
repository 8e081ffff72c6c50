"""kill -9 of one transacciones instance in the middle of a load of retried, keyed POSTs through the balancer
(:8004): no request fails, every transfer ends, none is applied twice; the unavailability gap seen by clients and
the time until every transfer is final are measured and printed."""

import asyncio
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

import httpx
import pytest

from tests.conftest import eventually
from tests.integration.stack import kill9, pid
from tests.integration.transacciones.conftest import FINALES, Banco, CuentaFactory, registrada

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

ACCOUNTS = 8
OPENING = Decimal("1000.00")
WORKERS = 6
LOAD_SECONDS = 30.0
KILL_AT = 8.0
VICTIM = "transacciones:transacciones-1"
REQUEST_DEADLINE = 90.0  # a request retried (same key) this long without an answer counts as failed
SETTLE_SECONDS = 120.0


@dataclass
class Carga:
    """What the clients saw: answered transfers (id, answered at), errors they retried through, unanswered ones."""

    ids: list[str] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed: int = 0

    async def transferir(self, banco: Banco, body: dict[str, Any]) -> None:
        key = str(uuid.uuid4())
        started = time.monotonic()
        while time.monotonic() < started + REQUEST_DEADLINE:
            try:
                r = await banco.post(body, key)
            except httpx.TransportError as exc:
                self.errors[type(exc).__name__] += 1
                await asyncio.sleep(0.1)
                continue
            if r.status_code >= 500:
                self.errors[str(r.status_code)] += 1
                await asyncio.sleep(0.1)
                continue
            assert registrada(r), r.text
            self.ids.append(r.json()["id"])
            self.answered_at.append(time.monotonic())
            self.latencies.append(time.monotonic() - started)
            return
        self.failed += 1


def hueco_mas_largo(momentos: list[float], desde: float, hasta: float) -> float:
    """The longest stretch within [desde, hasta] in which no request was answered."""
    puntos = [desde, *sorted(t for t in momentos if desde <= t <= hasta), hasta]
    return max(b - a for a, b in pairwise(puntos))


async def test_kill9_de_una_instancia_no_falla_ninguna_peticion(banco: Banco, cuenta: CuentaFactory) -> None:
    cuentas = [await cuenta(f"{OPENING}") for _ in range(ACCOUNTS)]
    carga = Carga()
    start = time.monotonic()

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < start + LOAD_SECONDS:
            a, b = rng.sample(cuentas, 2)
            monto = f"{rng.randint(1, 2000) / 100:.2f}"
            body = {"tipo": "TRANSFERENCIA", "monto": monto, "moneda": "PEN", "cuentaOrigenId": a, "cuentaDestinoId": b}
            await carga.transferir(banco, body)

    async def matar() -> float:
        await asyncio.sleep(KILL_AT)
        old = await asyncio.to_thread(kill9, VICTIM)
        killed_at = time.monotonic()

        async def restarted() -> bool:
            return await asyncio.to_thread(pid, VICTIM) not in (0, old)

        await eventually(restarted, timeout=60, interval=0.5, what="the instance restarted")
        return killed_at

    killer = asyncio.create_task(matar())
    await asyncio.gather(*(worker(seed) for seed in range(WORKERS)))
    killed_at = await killer
    load_end = time.monotonic()

    # -- every transfer final: time from the kill until the last one is ---------------------------------------------
    pendientes = set(carga.ids)
    finales: dict[str, dict[str, Any]] = {}

    async def todas_finales() -> bool:
        for trx_id in list(pendientes):
            r = await banco.trx.get(f"/transacciones/{trx_id}")
            if r.status_code == 200 and r.json()["estado"] in FINALES:
                finales[trx_id] = r.json()
                pendientes.discard(trx_id)
        return not pendientes

    await eventually(todas_finales, timeout=SETTLE_SECONDS, interval=0.2, what=f"all {len(carga.ids)} transfers final")
    all_final = time.monotonic()
    gap = hueco_mas_largo(carga.answered_at, killed_at - 1.0, min(load_end, killed_at + 20.0))
    latencies = sorted(carga.latencies)
    print(
        f"\n[instance kill] {len(carga.ids)} transfers in {LOAD_SECONDS:.0f}s by {WORKERS} clients; "
        f"failed requests: {carga.failed}; errors retried by clients: {dict(carga.errors) or 0}; "
        f"longest gap without an answer after the kill: {gap:.2f}s; "
        f"p50/p99/max latency: {latencies[len(latencies) // 2]:.2f}/{latencies[int(len(latencies) * 0.99)]:.2f}/"
        f"{latencies[-1]:.2f}s; all final {all_final - killed_at:.1f}s after the kill "
        f"({all_final - load_end:.1f}s after the load ended)"
    )
    assert carga.failed == 0, f"{carga.failed} requests never answered"
    estados: dict[str, int] = defaultdict(int)
    for t in finales.values():
        estados[t["estado"]] += 1
    assert estados["COMPLETADA"] > 0, estados

    # -- none applied twice, each its exact effect, money conserved ------------------------------------------------
    ledgers = {c: await banco.movimientos(c) for c in cuentas}
    comandos: dict[str, int] = defaultdict(int)
    efecto: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for c, rows in ledgers.items():
        for m in rows:
            if m["transaccion_id"]:
                comandos[m["comando_id"]] += 1
                efecto[m["transaccion_id"]][c] += Decimal(m["monto"]) * (1 if m["operacion"] == "CREDITO" else -1)
    assert all(n == 1 for n in comandos.values()), "a saga command was applied twice"
    for t in finales.values():
        got = {k: v for k, v in efecto.get(t["transaccionId"], {}).items() if v != 0}
        monto = Decimal(t["monto"])
        want = {t["cuentaOrigenId"]: -monto, t["cuentaDestinoId"]: monto} if t["estado"] == "COMPLETADA" else {}
        assert got == want, (t, got)
    saldos = {c: await banco.saldo(c) for c in cuentas}
    assert sum(saldos.values(), Decimal(0)) == OPENING * ACCOUNTS, "transfers create or destroy no money"
    assert all(s >= 0 for s in saldos.values()), saldos
