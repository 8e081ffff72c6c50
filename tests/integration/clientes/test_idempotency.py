"""Idempotency-Key on clientes writes: a retried POST answers the cliente it created (never a 409 for its own
email), a retried PUT its original answer; another request under the key is 409."""

import asyncio
import uuid
from typing import Any

import httpx

from tests.integration.clientes.conftest import nuevo_cliente


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


async def test_post_repetido_devuelve_el_mismo_cliente(api: httpx.AsyncClient) -> None:
    body, headers = nuevo_cliente(), _key()
    first = await api.post("/clientes", json=body, headers=headers)
    again = await api.post("/clientes", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.content == first.content
    assert again.headers["Location"] == first.headers["Location"] == f"/clientes/{first.json()['cliente_id']}"
    assert again.headers["Idempotent-Replayed"] == "true"
    found = await api.get(f"/clientes/email/{body['email']}")
    assert found.json()["cliente_id"] == first.json()["cliente_id"]
    listed = await api.get("/clientes", params={"q": body["email"]})
    assert listed.headers["X-Total-Count"] == "1"


async def test_post_sin_clave_repetido_sigue_siendo_409_por_email(api: httpx.AsyncClient) -> None:
    body = nuevo_cliente()
    assert (await api.post("/clientes", json=body)).status_code == 201
    assert (await api.post("/clientes", json=body)).status_code == 409


async def test_misma_clave_con_otro_cuerpo_es_409(api: httpx.AsyncClient) -> None:
    headers = _key()
    assert (await api.post("/clientes", json=nuevo_cliente(), headers=headers)).status_code == 201
    other = await api.post("/clientes", json=nuevo_cliente(), headers=headers)
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["detail"]


async def test_posts_concurrentes_con_la_misma_clave_crean_un_cliente(api: httpx.AsyncClient) -> None:
    body, headers = nuevo_cliente(), _key()
    answers = await asyncio.gather(*(api.post("/clientes", json=body, headers=headers) for _ in range(6)))
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert len({r.json()["cliente_id"] for r in answers}) == 1
    assert sum(1 for r in answers if "Idempotent-Replayed" not in r.headers) == 1


async def test_put_repetido_devuelve_la_respuesta_original(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    path, headers = f"/clientes/{cliente['cliente_id']}", _key()
    cambio = {"nombre": "Ana", "apellido": cliente["apellido"], "email": cliente["email"], "estado": "bloqueado"}
    first = await api.put(path, json=cambio, headers=headers)
    assert first.status_code == 200, first.text
    assert (await api.put(path, json={**cambio, "estado": "activo"})).status_code == 200
    replay = await api.put(path, json=cambio, headers=headers)
    assert replay.status_code == 200
    assert replay.content == first.content
    assert (await api.get(path)).json()["estado"] == "activo"  # the retry did not apply the change again
    other = await api.put(f"/clientes/{cliente['cliente_id'] + 1}", json=cambio, headers=headers)
    assert other.status_code == 409


async def test_lote_repetido_registra_cada_cliente_una_vez(api: httpx.AsyncClient) -> None:
    """Both paths: a batch written in one transaction, and one with a refused item (written item by item)."""
    a, b, dup = nuevo_cliente(), nuevo_cliente(), nuevo_cliente()
    assert (await api.post("/clientes", json=dup)).status_code == 201
    for items, creados in (([a], 1), ([b, dup], 1)):
        headers = _key()
        first = await api.post("/clientes/lote", json={"clientes": items}, headers=headers)
        again = await api.post("/clientes/lote", json={"clientes": items}, headers=headers)
        assert first.status_code == again.status_code == 200, (first.text, again.text)
        assert first.json()["creados"] == creados
        assert again.json() == first.json()
        other = await api.post("/clientes/lote", json={"clientes": [nuevo_cliente()]}, headers=headers)
        assert other.status_code == 409, other.text
    for body in (a, b):
        assert (await api.get(f"/clientes/email/{body['email']}")).status_code == 200
