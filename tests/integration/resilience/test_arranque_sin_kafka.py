"""A service restarted while Kafka is down starts anyway: cuentas and transacciones (both instances) and perfil answer
/health 200 "degraded" within seconds, a write through the balancer lands in the outbox, and once the broker is
back the relay publishes it and everything is healthy again."""

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
    of_type,
    restart_if_down,
    seen_all,
    todo_sano,
)

RESTARTED = {
    "cuentas-1": "cuentas:cuentas-1",
    "cuentas-2": "cuentas:cuentas-2",
    "transacciones-1": "transacciones:transacciones-1",
    "transacciones-2": "transacciones:transacciones-2",
    "perfil-1": "perfil:perfil-1",
    "perfil-2": "perfil:perfil-2",
}
# From the restart's end (supervisord's startsecs included) to the first 200: the start itself takes ~2 s of CPU.
READY_SECONDS = 10.0


def _pids() -> dict[str, int]:
    return {name: stack.pid(program) for name, program in RESTARTED.items()}


@pytest.mark.slow
async def test_reiniciados_sin_kafka_arrancan_degradados_y_publican_al_volver(
    http: httpx.AsyncClient,
) -> None:
    # Before the outage: a cliente cuentas' replica already knows (a new one would only reach it through Kafka).
    cliente_id = await crear_cliente(http)
    await abrir_cuenta(http, cliente_id)
    await todo_sano(http)
    try:
        async with Tail("bank.cuentas.v1") as cuentas_tail:
            stack.stop_kafka()
            assert not stack.pid("kafka")
            before = _pids()
            stack.supervisorctl("restart", *RESTARTED.values())
            after = _pids()
            assert all(after[name] and after[name] != before[name] for name in RESTARTED), (before, after)

            last: dict[str, tuple[int, dict[str, Any]]] = {}

            async def degraded() -> bool:
                last.update({name: await health(http, HEALTH[name]) for name in RESTARTED})
                return all(code == 200 and body.get("status") == "degraded" for code, body in last.values())

            try:
                await eventually(degraded, timeout=READY_SECONDS, interval=0.2, what="/health 200 degraded")
            except AssertionError:
                raise AssertionError(f"not all degraded {READY_SECONDS}s after the restart: {last}") from None
            for name in RESTARTED:
                _, body = await health(http, HEALTH[name])
                assert body["database"] == "connected", (name, body)
                assert body["kafka"].startswith("error"), (name, body)

            r = await http.post(
                f"{URLS['cuentas']}/cuentas", json={"cliente_id": cliente_id, "tipo_cuenta_id": 1, "moneda": "PEN"}
            )
            assert r.status_code == 201, r.text
            cuenta_id = r.json()["cuenta_id"]
            assert not stack.pid("kafka"), "Kafka was down all along"
            assert _pids() == after, "no service restarted again while Kafka was down"

            restart_if_down("kafka")
            await seen_all(cuentas_tail, [cuenta_id], of_type("CuentaAbierta", "cuenta_id"), timeout=90)
    finally:
        restart_if_down("kafka")
        for program in RESTARTED.values():
            if not stack.pid(program):
                stack.supervisorctl("start", program)
        await todo_sano(http, timeout=120)
