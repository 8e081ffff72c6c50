"""beanie models on FerretDB: insert, find, sort, index, and an update of a document with pending events.

FerretDB 1.24 has no Decimal128 (it drops the connection on one), so money is stored as integer cents:
exact, sortable and summable on every Mongo-wire store.
"""

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from beanie import Document, init_beanie
from pymongo import AsyncMongoClient, IndexModel

from contracts.clientes import ClienteEliminado
from contracts.envelope import envelope_for
from producers.outbox_row import OutboxRow
from tests.integration.conftest import MONGO_URL


class Operacion(Document):
    codigo: str
    centimos: int
    orden: int
    outbox: list[dict[str, object]] = []

    class Settings:
        name = "operaciones"
        indexes = [IndexModel("codigo", unique=True)]


@pytest.fixture
async def db() -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:10]}"
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGO_URL)
    await init_beanie(database=client[name], document_models=[Operacion])
    yield name
    await client.drop_database(name)
    await client.close()


async def test_insertar_buscar_ordenar_e_indice_unico(db: str) -> None:
    for i in (3, 1, 2):
        await Operacion(codigo=f"op{i}", centimos=i * 100 + 10, orden=i).insert()
    found = await Operacion.find(Operacion.orden >= 2).sort("-orden").to_list()
    assert [o.codigo for o in found] == ["op3", "op2"]
    assert Decimal(found[0].centimos) / 100 == Decimal("3.10")
    raw = await Operacion.get_pymongo_collection().find_one({"codigo": "op3"})
    assert raw is not None
    assert type(raw["centimos"]) is int  # stored exact, not as a float
    with pytest.raises(Exception, match=r"(?i)duplicate"):
        await Operacion(codigo="op1", centimos=100, orden=9).insert()
    indexes = await Operacion.get_pymongo_collection().index_information()
    assert any(v.get("unique") for v in indexes.values())


async def test_actualizar_un_documento_con_eventos_pendientes(db: str) -> None:
    op = await Operacion(codigo="x", centimos=500, orden=1).insert()
    row = OutboxRow.of(envelope_for(ClienteEliminado(cliente_id=1), source="/t")).to_document()
    coll = Operacion.get_pymongo_collection()
    # State change and pending event in one single-document update: atomic on any Mongo-wire store.
    await coll.update_one({"_id": op.id, "orden": 1}, {"$set": {"orden": 2}, "$push": {"outbox": row}})
    stored = await Operacion.get(op.id)
    assert stored is not None
    assert stored.orden == 2
    assert [e["event_id"] for e in stored.outbox] == [row["event_id"]]
    await coll.update_one({"_id": op.id}, {"$pullAll": {"outbox": [row]}})
    stored = await Operacion.get(op.id)
    assert stored is not None
    assert stored.outbox == []
