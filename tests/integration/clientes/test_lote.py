"""POST /clientes/lote on the running service: each item judged as POST /clientes would judge it, the same
ClienteCreado events, and nothing half-written."""

from typing import Any

import httpx

from contracts import topics
from tests.integration.clientes.conftest import nuevo_cliente
from tests.integration.clientes.kafka_tail import Record, Tail

CREADO = "bank.clientes.ClienteCreado.v1"


def _creado(cliente_id: int) -> Any:
    def match(record: Record) -> bool:
        return record.headers.get("ce_subject") == str(cliente_id) and record.headers.get("ce_type") == CREADO

    return match


async def test_lote_valido_crea_todos_con_el_mismo_evento_que_el_alta_individual(api: httpx.AsyncClient) -> None:
    bodies = [nuevo_cliente() for _ in range(3)]
    async with Tail(topics.CLIENTES) as tail:
        single = (await api.post("/clientes", json=nuevo_cliente())).json()
        response = await api.post("/clientes/lote", json={"clientes": bodies})
        assert response.status_code == 200, response.text
        result = response.json()
        assert (result["creados"], result["rechazados"]) == (3, 0)
        ids = [item["id"] for item in result["resultados"]]
        assert [item["status"] for item in result["resultados"]] == [201, 201, 201]
        assert [item["indice"] for item in result["resultados"]] == [0, 1, 2]
        reference = await tail.wait_for(_creado(single["cliente_id"]), what="the single POST's event")
        records = [await tail.wait_for(_creado(i), what=f"ClienteCreado {i}") for i in ids]
        await tail.drain()

    for cliente_id, body, record in zip(ids, bodies, records, strict=True):
        stored = (await api.get(f"/clientes/{cliente_id}")).json()
        assert stored["email"] == body["email"]
        assert stored["documentos"][0]["numero_documento"] == body["documento"]["numero_documento"]
        assert set(record.headers) == set(reference.headers)
        assert set(record.data) == set(reference.data)
        assert record.data["cliente_id"] == cliente_id
        assert record.key == str(cliente_id).encode()
    # Exactly one event per cliente: the batch published nothing twice.
    for cliente_id in ids:
        assert sum(1 for r in tail.records if _creado(cliente_id)(r)) == 1


async def test_un_duplicado_solo_se_rechaza_a_si_mismo(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    first, last = nuevo_cliente(), nuevo_cliente()
    duplicate = nuevo_cliente(email=cliente["email"])
    response = await api.post("/clientes/lote", json={"clientes": [first, duplicate, last]})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["creados"], result["rechazados"]) == (2, 1)
    ok, refused, ok2 = result["resultados"]
    assert (ok["status"], ok2["status"]) == (201, 201)
    assert (refused["indice"], refused["status"], refused["campo"]) == (1, 409, "email")
    assert refused["id"] is None
    # Nothing of the refused item was written: its document number is free.
    numero = duplicate["documento"]["numero_documento"]
    assert (await api.get(f"/clientes/documento/{numero}")).status_code == 404
    assert (await api.get(f"/clientes/{ok['id']}")).json()["email"] == first["email"]


async def test_un_item_invalido_rechaza_el_lote_entero_nombrando_el_campo(api: httpx.AsyncClient) -> None:
    good = nuevo_cliente()
    response = await api.post("/clientes/lote", json={"clientes": [good, nuevo_cliente(email="no-es-un-email")]})
    assert response.status_code == 422
    assert ["body", "clientes", 1, "email"] in [e["loc"] for e in response.json()["detail"]]
    assert (await api.get(f"/clientes/email/{good['email']}")).status_code == 404


async def test_lote_vacio_o_demasiado_grande_es_422(api: httpx.AsyncClient) -> None:
    assert (await api.post("/clientes/lote", json={"clientes": []})).status_code == 422
    too_many = [nuevo_cliente() for _ in range(1001)]
    response = await api.post("/clientes/lote", json={"clientes": too_many})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "clientes"]
