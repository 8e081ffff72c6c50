"""Kafka down is not the bank down: while the broker is stopped, clientes and cuentas (through HAProxy) keep
answering writes from their outboxes, /health says "degraded" with 200 so the balancer keeps both cuentas
instances, and every event of those writes reaches Kafka once it is back."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from decimal import Decimal

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
    haproxy_servers,
    health,
    nuevo_cliente,
    of_type,
    restart_if_down,
    seen_all,
    todo_sano,
)

# Longer than HAProxy needs to take an instance out (2 failed checks, 1 s apart), so a 503 /health would show.
OUTAGE_WRITES_SECONDS = 4.0


@contextlib.asynccontextmanager
async def kafka_parado(http: httpx.AsyncClient) -> AsyncIterator[None]:
    """Kafka stopped for the test's body; started again, and every service healthy, whatever the body did."""
    await todo_sano(http)
    stack.stop_kafka()
    try:
        yield
    finally:
        restart_if_down("kafka")
        await todo_sano(http, timeout=120)


@pytest.mark.slow
async def test_sin_kafka_clientes_y_cuentas_aceptan_escrituras_y_las_publican_al_volver(
    http: httpx.AsyncClient,
) -> None:
    # Before the outage: a cliente cuentas' replica knows (a new one would only reach it through Kafka) and its account.
    cliente_id = await crear_cliente(http)
    cuenta_id = await abrir_cuenta(http, cliente_id, saldo="100.00")
    async with (
        Tail("bank.clientes.v1") as clientes_tail,
        Tail("bank.cuentas.v1") as cuentas_tail,
        kafka_parado(http),
    ):

        async def degraded_everywhere() -> bool:
            answers = [await health(http, url) for url in HEALTH.values()]
            return all(code == 200 and body.get("status") == "degraded" for code, body in answers)

        await eventually(degraded_everywhere, timeout=30, interval=0.3, what="/health 200 degraded while Kafka is down")
        _, body = await health(http, HEALTH["clientes"])
        assert body["database"] == "connected"
        assert body["kafka"].startswith("error")

        clientes: list[int] = []
        cuentas: list[int] = []
        saldos: list[Decimal] = []
        deadline = time.monotonic() + OUTAGE_WRITES_SECONDS
        while time.monotonic() < deadline:
            r = await http.post(f"{URLS['clientes']}/clientes", json=nuevo_cliente())
            assert r.status_code == 201, r.text
            clientes.append(r.json()["cliente_id"])
            r = await http.post(
                f"{URLS['cuentas']}/cuentas", json={"cliente_id": cliente_id, "tipo_cuenta_id": 1, "moneda": "PEN"}
            )
            assert r.status_code == 201, r.text
            cuentas.append(r.json()["cuenta_id"])
            r = await http.patch(
                f"{URLS['cuentas']}/cuentas/{cuenta_id}/saldo", json={"monto": "1.00", "operacion": "deposito"}
            )
            assert r.status_code == 200, r.text
            saldos.append(Decimal(r.json()["saldo"]))
            await asyncio.sleep(0.2)  # pacing: writes spread over the outage, not a wait for a condition
        # Still both in rotation: the health checks kept answering 200 for the whole outage.
        assert await haproxy_servers(http) == {"cuentas-1": "UP", "cuentas-2": "UP"}
        assert not stack.pid("kafka"), "Kafka was down all along"

        restart_if_down("kafka")
        await seen_all(clientes_tail, clientes, of_type("ClienteCreado", "cliente_id"), timeout=90)
        await seen_all(cuentas_tail, cuentas, of_type("CuentaAbierta", "cuenta_id"), timeout=60)
        saldo_de = of_type("SaldoActualizado", "saldo", cuenta_id=cuenta_id)
        await seen_all(cuentas_tail, saldos, lambda r: saldo_de(r) and Decimal(str(saldo_de(r))), timeout=60)
    assert clientes
    assert cuentas
    assert saldos
