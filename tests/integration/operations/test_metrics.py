"""/metrics on the running stack: every process answers (services and the lake sink), with series named by route
template and instance; the outbox backlog rises while Kafka is stopped and falls once it is back; a consumer's lag
rises while its database is stopped and falls once it is back; sagas are timed; the gateway publishes no /metrics
and serves the operator view only to the roles meant."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.platform.ops_view import Target, local_targets, samples
from tests.conftest import eventually
from tests.integration import stack
from tests.integration.auth import Bearer, auth_headers
from tests.integration.conftest import GATEWAY, URLS

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(auth=Bearer(), timeout=15) as client:
        yield client


def targets() -> list[Target]:
    return local_targets()


async def scrape(http: httpx.AsyncClient, target: Target) -> list[tuple[str, dict[str, str], float]]:
    r = await http.get(target.url, auth=None)  # no token: /metrics is read on the internal port
    assert r.status_code == 200, (target.name, r.status_code, r.text[:200])
    assert r.headers["content-type"].startswith("text/plain"), target.name
    return samples(r.text)


async def total(http: httpx.AsyncClient, name: str, **where: str) -> float:
    """The sum of `name`'s samples matching `where` over every process that answers."""
    found = 0.0
    for target in targets():
        try:
            r = await http.get(target.url, auth=None)
        except httpx.HTTPError:
            continue
        if r.status_code != 200:
            continue
        for sample, labels, value in samples(r.text):
            if sample == name and all(labels.get(k) == v for k, v in where.items()):
                found += value
    return found


def cliente() -> dict[str, Any]:
    u = uuid.uuid4().hex[:12]
    return {
        "nombre": "Metricas",
        "apellido": f"Prueba {u}",
        "email": f"metricas.{u}@example.com",
        "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"M{u.upper()}"},
    }


async def crear_cliente(http: httpx.AsyncClient) -> int:
    r = await http.post(f"{URLS['clientes']}/clientes", json=cliente())
    assert r.status_code == 201, r.text
    return int(r.json()["cliente_id"])


async def test_cada_proceso_publica_sus_metricas_sin_token(http: httpx.AsyncClient) -> None:
    listed = targets()
    names = {t.name for t in listed}
    assert {"clientes", "analytics"} <= names
    assert any(n.startswith("cuentas") for n in names)
    assert any(n.startswith("lake") for n in names)
    await crear_cliente(http)
    for target in listed:
        found = await scrape(http, target)
        series = {name for name, _, _ in found}
        service = {labels.get("service") for _, labels, _ in found if "service" in labels}
        if target.name.startswith("lake"):
            assert {"cloudbank_lake_files_written_total", "cloudbank_consumer_lag"} <= series, target.name
            assert service == {"lake"}
            continue
        assert "cloudbank_http_request_duration_seconds_bucket" in series, target.name
        assert len(service) == 1, (target.name, service)
        routes = {labels["route"] for name, labels, _ in found if name == "cloudbank_http_requests_total"}
        assert "/health" in routes, target.name
        assert not any(r[-1].isdigit() for r in routes), routes  # templates, never a raw /clientes/42
    clientes = await scrape(http, next(t for t in listed if t.name == "clientes"))
    created = [
        v
        for name, labels, v in clientes
        if name == "cloudbank_http_requests_total" and (labels["method"], labels["route"]) == ("POST", "/clientes")
    ]
    assert sum(created) >= 1
    cuentas = [t for t in listed if t.name.startswith("cuentas")]
    instances = {labels["instance"] for t in cuentas for _, labels, _ in await scrape(http, t) if "instance" in labels}
    assert instances == {t.name for t in cuentas}  # one series per instance, named by CUENTAS_INSTANCE


async def test_el_backlog_del_outbox_sube_sin_kafka_y_baja_al_volver(http: httpx.AsyncClient) -> None:
    backlog = "cloudbank_outbox_backlog"
    stack.stop_kafka()
    try:
        for _ in range(3):
            await crear_cliente(http)  # written with its event to the outbox; the relay cannot publish it

        async def risen() -> float | None:
            value = await total(http, backlog, outbox="clientes")
            return value if value >= 3 else None

        await eventually(risen, timeout=30, interval=0.5, what="the clientes outbox backlog to reach 3")
        age = await total(http, "cloudbank_outbox_oldest_age_seconds", outbox="clientes")
        assert age > 0
    finally:
        stack.supervisorctl("start", *(stack.full_name(p) for p in stack.kafka_programs()))

    async def drained() -> bool:
        return await total(http, backlog, outbox="clientes") == 0

    await eventually(drained, timeout=180, interval=1, what="the clientes outbox to drain once Kafka is back")
    assert await total(http, "cloudbank_outbox_oldest_age_seconds", outbox="clientes") == 0


async def test_el_lag_de_un_consumidor_sube_mientras_no_puede_aplicar_y_baja_despues(http: httpx.AsyncClient) -> None:
    """cuentas' replica of clientes writes to MariaDB: with MariaDB stopped it retries the record it holds and reads
    no further, so each cliente created meanwhile (clientes is on PostgreSQL) adds to the group's lag."""
    group = "cuentas.replica-clientes"
    mariadb = stack.full_name("mariadb")
    stack.supervisorctl("stop", mariadb)
    try:

        async def risen() -> float | None:
            await crear_cliente(http)
            value = await total(http, "cloudbank_consumer_lag", group=group)
            return value if value >= 1 else None

        await eventually(risen, timeout=120, interval=0.5, what=f"{group}'s lag to rise")
    finally:
        stack.supervisorctl("start", mariadb)

    async def caught_up() -> bool:
        return await total(http, "cloudbank_consumer_lag", group=group) == 0

    await eventually(caught_up, timeout=180, interval=1, what=f"{group}'s lag back to 0")


async def test_las_sagas_se_cronometran_por_resultado(http: httpx.AsyncClient) -> None:
    count = "cloudbank_saga_duration_seconds_count"
    before = await total(http, count, outcome="COMPLETADA")
    cliente_id = await crear_cliente(http)

    async def cuenta() -> int | None:
        body = {"cliente_id": cliente_id, "tipo_cuenta_id": 1, "saldo": "0.00", "moneda": "PEN"}
        r = await http.post(f"{URLS['cuentas']}/cuentas", json=body)
        return int(r.json()["cuenta_id"]) if r.status_code == 201 else None

    cuenta_id = await eventually(cuenta, timeout=60, interval=0.3, what="an account of the new cliente")
    body = {"tipo": "DEPOSITO", "monto": "3.00", "moneda": "PEN", "cuentaDestinoId": cuenta_id}
    r = await http.post(f"{URLS['transacciones']}/transacciones", json=body)
    assert r.status_code in (200, 201, 202), r.text

    async def timed() -> bool:
        return await total(http, count, outcome="COMPLETADA") >= before + 1

    await eventually(timed, timeout=60, interval=0.5, what="the deposit's saga to be timed")


async def test_el_gateway_no_publica_metrics_y_la_vista_de_operaciones_pide_rol() -> None:
    view = "/api/analytics/api/operaciones"
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=20) as gw:
        for path in ("/metrics", "/api/perfil/metrics", "/api/analytics/metrics"):
            r = await gw.get(path, headers=auth_headers("admin"))
            assert (r.status_code, r.headers["content-type"]) == (404, "application/problem+json"), path
        health = await gw.get("/health")
        assert (health.status_code, health.json()["status"]) == (200, "healthy")
        assert (await gw.get(view)).status_code == 401
        assert (await gw.get(view, headers=auth_headers("cajero"))).status_code == 403
        assert (await gw.get(view, headers=auth_headers("analista"))).status_code == 403
        r = await gw.get(view, headers=auth_headers("operaciones"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert all(t["up"] for t in body["targets"]), body["targets"]
    assert {"clientes", "cuentas", "transacciones"} <= {o["outbox"] for o in body["outboxes"]}
    assert "cuentas.replica-clientes" in body["lag_by_group"]
    assert body["dlq_depth"] is not None
