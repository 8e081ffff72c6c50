"""Every write of clientes appears on bank.clientes.v1 exactly once, as a CloudEvent in Kafka binary mode."""

from datetime import datetime
from typing import Any

import httpx

from contracts import topics
from tests.integration.clientes.conftest import nuevo_cliente
from tests.integration.clientes.kafka_tail import Record, Tail

CREADO = "bank.clientes.ClienteCreado.v1"
ACTUALIZADO = "bank.clientes.ClienteActualizado.v1"
ELIMINADO = "bank.clientes.ClienteEliminado.v1"


def _of(cliente_id: int, ce_type: str | None = None) -> Any:
    def match(record: Record) -> bool:
        return record.headers.get("ce_subject") == str(cliente_id) and (
            ce_type is None or record.headers.get("ce_type") == ce_type
        )

    return match


async def test_alta_publica_cliente_creado_con_cabeceras_cloudevents(api: httpx.AsyncClient) -> None:
    async with Tail(topics.CLIENTES) as tail:
        created = (await api.post("/clientes", json=nuevo_cliente())).json()
        cliente_id = created["cliente_id"]
        record = await tail.wait_for(_of(cliente_id, CREADO), what=f"ClienteCreado {cliente_id}")
        await tail.drain()

    assert record.key == str(cliente_id).encode()
    h = record.headers
    assert h["ce_specversion"] == "1.0"
    assert h["ce_source"] == "/clientes"
    assert h["ce_id"]
    assert h["content-type"] == "application/json"
    assert h["ce_correlationid"]
    assert h["ce_dataschema"].endswith("/bank.clientes.ClienteCreado.v1.json")
    assert datetime.fromisoformat(h["ce_time"]).utcoffset() is not None
    data = record.data
    assert data["cliente_id"] == cliente_id
    assert (data["email"], data["estado"], data["fecha_registro"][:19]) == (
        created["email"],
        "activo",
        created["fecha_registro"][:19],
    )
    [doc] = data["documentos"]
    assert doc["documento_id"] == created["documentos"][0]["documento_id"]
    assert doc["numero_documento"] == created["documentos"][0]["numero_documento"]
    assert len([r for r in tail.records if _of(cliente_id, CREADO)(r)]) == 1


async def test_ciclo_de_vida_publica_creado_actualizado_eliminado_una_vez_cada_uno(api: httpx.AsyncClient) -> None:
    async with Tail(topics.CLIENTES) as tail:
        created = (await api.post("/clientes", json=nuevo_cliente())).json()
        cliente_id = created["cliente_id"]
        # A PUT that changes nothing emits nothing; the real change right after must be the only update seen.
        assert (await api.put(f"/clientes/{cliente_id}", json={"nombre": created["nombre"]})).status_code == 200
        updated = await api.put(f"/clientes/{cliente_id}", json={"telefono": "111222333", "estado": "bloqueado"})
        assert updated.status_code == 200
        assert (await api.delete(f"/clientes/{cliente_id}")).status_code == 200
        await tail.wait_for(_of(cliente_id, ELIMINADO), what=f"ClienteEliminado {cliente_id}")
        await tail.drain()

    mine = [r for r in tail.records if _of(cliente_id)(r)]
    assert [r.headers["ce_type"] for r in mine] == [CREADO, ACTUALIZADO, ELIMINADO]
    assert len({r.headers["ce_id"] for r in mine}) == 3
    assert len({r.partition for r in mine}) == 1  # key = cliente_id keeps one cliente's events in order
    actualizado = mine[1].data
    # The full state after the change, so a consumer needs no earlier event.
    assert actualizado == {
        "cliente_id": cliente_id,
        "nombre": created["nombre"],
        "apellido": created["apellido"],
        "email": created["email"],
        "telefono": "111222333",
        "estado": "bloqueado",
    }
    assert mine[2].data == {"cliente_id": cliente_id}


async def test_alta_rechazada_no_publica_nada(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    async with Tail(topics.CLIENTES) as tail:
        dup = await api.post("/clientes", json=nuevo_cliente(email=cliente["email"]))
        assert dup.status_code == 409
        # A later successful write is the marker: the relay publishes in commit order, so anything the
        # refused request had emitted would already be there.
        marker = (await api.post("/clientes", json=nuevo_cliente())).json()
        await tail.wait_for(_of(marker["cliente_id"], CREADO), what="the marker event")
        await tail.drain()
    assert not [r for r in tail.records if r.data.get("email", "").lower() == cliente["email"].lower()]
