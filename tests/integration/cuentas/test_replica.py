"""The replica of clientes: an account can be opened once the cliente's event has arrived (no call to MS1), never
for an unknown, blocked or deleted cliente."""

import uuid

import httpx
from aiokafka import AIOKafkaProducer

from contracts.clientes import ClienteEliminado
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import URLS
from tests.integration.cuentas.conftest import (
    abrir_cuenta,
    actualizar_cliente,
    nuevo_cliente_id,
    publicar,
    publicar_cliente,
)


async def _status_until(http: httpx.AsyncClient, cliente_id: int, status: int) -> httpx.Response:
    async def probe() -> httpx.Response | None:
        r = await http.post("/cuentas", json={"cliente_id": cliente_id, "tipo_cuenta_id": 1})
        return r if r.status_code == status else None

    return await eventually(probe, timeout=30, interval=0.2, what=f"POST /cuentas -> {status}")


async def test_cliente_del_evento_puede_abrir_cuenta(http: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    cliente_id = nuevo_cliente_id()
    assert (await http.post("/cuentas", json={"cliente_id": cliente_id, "tipo_cuenta_id": 1})).status_code == 404
    await publicar_cliente(producer, cliente_id)
    cuenta = await abrir_cuenta(http, cliente_id)
    assert cuenta["cliente_id"] == cliente_id


async def test_cliente_bloqueado_no_puede_y_desbloqueado_si(
    http: httpx.AsyncClient, producer: AIOKafkaProducer
) -> None:
    cliente_id = nuevo_cliente_id()
    await publicar_cliente(producer, cliente_id, estado="bloqueado")
    refused = await _status_until(http, cliente_id, 409)
    assert "bloqueado" in refused.json()["detail"]
    await actualizar_cliente(producer, cliente_id, "activo")
    await _status_until(http, cliente_id, 201)
    await actualizar_cliente(producer, cliente_id, "inactivo")
    await _status_until(http, cliente_id, 409)


async def test_cliente_eliminado_es_desconocido(http: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    cliente_id = nuevo_cliente_id()
    await publicar_cliente(producer, cliente_id)
    await abrir_cuenta(http, cliente_id)
    await publicar(producer, ClienteEliminado(cliente_id=cliente_id))
    await _status_until(http, cliente_id, 404)


async def test_cliente_creado_en_ms1_puede_abrir_cuenta(http: httpx.AsyncClient) -> None:
    """End to end with the real clientes service: its outbox -> bank.clientes.v1 -> our replica."""
    tag = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(auth=Bearer(), base_url=URLS["clientes"], timeout=15) as ms1:
        created = await ms1.post(
            "/clientes",
            json={
                "nombre": "Replica",
                "apellido": "Prueba",
                "email": f"replica.{tag}@test.pe",
                "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"P{tag}".upper()},
            },
        )
        assert created.status_code == 201, created.text
        cliente_id = created.json()["cliente_id"]
        cuenta = await abrir_cuenta(http, cliente_id, saldo="10.00")
        assert cuenta["cliente_id"] == cliente_id

        blocked = await ms1.put(
            f"/clientes/{cliente_id}",
            json={"nombre": "Replica", "apellido": "Prueba", "email": f"replica.{tag}@test.pe", "estado": "bloqueado"},
        )
        assert blocked.status_code == 200, blocked.text
        await _status_until(http, cliente_id, 409)
