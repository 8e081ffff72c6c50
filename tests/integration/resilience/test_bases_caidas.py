"""Done-when of durability: concurrent writes to every service while PostgreSQL, then MariaDB, then FerretDB are
killed with -9 (supervisord restarts each). Afterwards every write answered 2xx is there (GET) with its event on
Kafka, and the only 5xx ever answered is 503 (the dependency is away: retry)."""

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import eventually
from tests.integration import stack
from tests.integration.clientes.kafka_tail import Tail
from tests.integration.conftest import URLS
from tests.integration.resilience.conftest import (
    HEALTH,
    abrir_cuenta,
    crear_cliente,
    health,
    nuevo_cliente,
    of_type,
    seen_all,
    todo_sano,
)

# What each database serves: after its restart, these /health must say database connected again.
OWNERS = {
    "postgres": ["clientes"],
    "mariadb": ["cuentas-1", "cuentas-2"],
    "ferretdb": ["transacciones-1", "transacciones-2"],
}
WRITERS_PER_KIND = 2
STEADY_SECONDS = 1.5  # writes before each kill and after each recovery


@dataclass
class Answers:
    """Every write's outcome by kind: the 2xx bodies, every status seen, and requests that got no answer."""

    ok: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    unanswered: dict[str, int] = field(default_factory=dict)

    def record(self, kind: str, r: httpx.Response | None) -> None:
        if r is None:
            self.unanswered[kind] = self.unanswered.get(kind, 0) + 1
            return
        self.statuses.setdefault(kind, []).append(r.status_code)
        if 200 <= r.status_code < 300:
            self.ok.setdefault(kind, []).append(r.json())

    def server_errors(self) -> dict[str, list[int]]:
        return {k: sorted({s for s in v if s >= 500}) for k, v in self.statuses.items() if any(s >= 500 for s in v)}


async def _writer(
    kind: str, send: Callable[[], Awaitable[httpx.Response]], answers: Answers, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            answers.record(kind, await send())
        except httpx.TransportError:
            answers.record(kind, None)  # no answer (timeout, reset): neither a success nor a 5xx
        await asyncio.sleep(0.05)  # pacing: a steady stream of writes, not a wait for a condition


def _crash(program: str) -> int:
    """kill -9 of a database server as a crash takes it: the supervised process and its children at once
    (PostgreSQL's backends would otherwise outlive the postmaster and keep serving their connections)."""
    main = stack.pid(program)
    assert main, f"{program} is not running"
    children = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            if entry.name.isdigit() and int(stat[stat.rindex(")") + 2 :].split()[1]) == main:
                children.append(int(entry.name))
    for pid in [main, *children]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return main


async def _kill_and_recover(http: httpx.AsyncClient, program: str) -> None:
    killed = _crash(program)

    async def restarted() -> bool:
        return stack.pid(program) not in (0, killed)

    await eventually(restarted, timeout=60, interval=0.2, what=f"supervisord restarting {program}")

    async def served() -> bool:
        answers = [await health(http, HEALTH[name]) for name in OWNERS[program]]
        return all(code == 200 and body.get("database") == "connected" for code, body in answers)

    await eventually(served, timeout=60, interval=0.2, what=f"the services of {program} connected again")


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_kill9_de_cada_base_no_pierde_escrituras_respondidas(http: httpx.AsyncClient) -> None:
    await todo_sano(http)
    cliente_id = await crear_cliente(http)
    cuenta_saldo = await abrir_cuenta(http, cliente_id, saldo="0.00")  # PATCH saldo target
    cuenta_destino = await abrir_cuenta(http, cliente_id, saldo="0.00")  # DEPOSITO target of the saga
    answers = Answers()
    clientes, cuentas, trx = URLS["clientes"], URLS["cuentas"], URLS["transacciones"]
    sends: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        "POST /clientes": lambda: http.post(f"{clientes}/clientes", json=nuevo_cliente()),
        "POST /cuentas": lambda: http.post(
            f"{cuentas}/cuentas", json={"cliente_id": cliente_id, "tipo_cuenta_id": 1, "moneda": "PEN"}
        ),
        "PATCH saldo": lambda: http.patch(
            f"{cuentas}/cuentas/{cuenta_saldo}/saldo", json={"monto": "1.00", "operacion": "deposito"}
        ),
        "POST /transacciones": lambda: http.post(
            f"{trx}/transacciones",
            json={"tipo": "DEPOSITO", "monto": "1.00", "moneda": "PEN", "cuentaDestinoId": cuenta_destino},
        ),
    }
    async with (
        Tail("bank.clientes.v1") as clientes_tail,
        Tail("bank.cuentas.v1") as cuentas_tail,
        Tail("bank.transacciones.v1") as trx_tail,
    ):
        stop = asyncio.Event()
        writers = [
            asyncio.create_task(_writer(kind, send, answers, stop))
            for kind, send in sends.items()
            for _ in range(WRITERS_PER_KIND)
        ]
        try:
            # The schedule: writes in steady state, a kill, steady again (not waits for a condition).
            for program in OWNERS:
                await asyncio.sleep(STEADY_SECONDS)
                await _kill_and_recover(http, program)
            await asyncio.sleep(STEADY_SECONDS)
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.gather(*writers)
        summary = {k: {s: v.count(s) for s in sorted(set(v))} for k, v in answers.statuses.items()}
        print(f"answers by status: {summary}; unanswered: {answers.unanswered}")  # shown with -s / on failure
        assert all(answers.ok.get(kind) for kind in sends), f"every kind had answered writes: {summary}"

        # Every 2xx write is there ...
        for c in answers.ok["POST /clientes"]:
            assert (await http.get(f"{clientes}/clientes/{c['cliente_id']}")).status_code == 200, c
        for c in answers.ok["POST /cuentas"]:
            assert (await http.get(f"{cuentas}/cuentas/{c['cuenta_id']}")).status_code == 200, c
        for t in answers.ok["POST /transacciones"]:
            assert (await http.get(f"{trx}/transacciones/{t['id']}")).status_code == 200, t
        # Deposits only: each answered balance is distinct, and the account holds at least the highest one.
        saldos = [Decimal(c["saldo"]) for c in answers.ok["PATCH saldo"]]
        assert len(set(saldos)) == len(saldos), "two deposits answered the same balance"
        final = Decimal((await http.get(f"{cuentas}/cuentas/{cuenta_saldo}")).json()["saldo"])
        assert final >= max(saldos)

        # ... with its event on Kafka.
        await seen_all(
            clientes_tail,
            [c["cliente_id"] for c in answers.ok["POST /clientes"]],
            of_type("ClienteCreado", "cliente_id"),
            timeout=60,
        )
        await seen_all(
            cuentas_tail,
            [c["cuenta_id"] for c in answers.ok["POST /cuentas"]],
            of_type("CuentaAbierta", "cuenta_id"),
            timeout=60,
        )
        saldo_de = of_type("SaldoActualizado", "saldo", cuenta_id=cuenta_saldo)
        await seen_all(cuentas_tail, saldos, lambda r: (s := saldo_de(r)) and Decimal(str(s)), timeout=60)
        await seen_all(
            trx_tail,
            [t["id"] for t in answers.ok["POST /transacciones"]],
            of_type("TransaccionSolicitada", "id"),
            timeout=60,
        )

    # The strict rule: a dependency failure is a 503 (retry later), never another 5xx. Until the `errors` branch
    # (every dependency error a 503 + Retry-After) is merged, an un-translated driver error may still answer 500:
    # THIS is the one assertion that then fails; the ones above must hold on every branch.
    assert all(codes == [503] for codes in answers.server_errors().values()), (
        f"5xx other than 503: {answers.server_errors()} (all answers: {summary}, unanswered: {answers.unanswered})"
    )
    await todo_sano(http)
