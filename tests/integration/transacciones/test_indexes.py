"""The secondary indexes of the transfers service on the real store: created by name when wanted, dropped when not
(FerretDB 1.x never reads them), and a second pass changes nothing (FerretDB 1.x drops the connection on a
re-created index)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from services.transacciones.propietarios import COLLECTION as PROPIETARIOS
from services.transacciones.propietarios import Propietarios
from services.transacciones.repository import TransaccionDocument, ensure_indexes
from tests.integration.conftest import MONGO_URL

ARCHIVE_INDEXES = {i.document["name"] for i in TransaccionDocument.Settings.indexes}


@pytest.fixture
async def db() -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL)
    database = client[f"t_{uuid.uuid4().hex[:10]}"]
    yield database
    await client.drop_database(database.name)
    await client.close()


async def _names(db: AsyncDatabase[dict[str, Any]], collection: str) -> set[str]:
    return set((await db[collection].index_information()).keys())


async def test_los_indices_del_archivo_se_crean_y_se_quitan_por_nombre(db: AsyncDatabase[dict[str, Any]]) -> None:
    archive = TransaccionDocument.Settings.name
    await db[archive].insert_one({"estado": "COMPLETADA"})
    assert set(await ensure_indexes(db, wanted=True)) == ARCHIVE_INDEXES
    assert await ensure_indexes(db, wanted=True) == []  # nothing re-created
    assert await _names(db, archive) >= ARCHIVE_INDEXES
    assert set(await ensure_indexes(db, wanted=False)) == ARCHIVE_INDEXES
    assert await ensure_indexes(db, wanted=False) == []
    assert await _names(db, archive) == {"_id_"}  # the primary key stays
    assert await db[archive].count_documents({}) == 1


async def test_sin_coleccion_no_hay_nada_que_quitar(db: AsyncDatabase[dict[str, Any]]) -> None:
    assert await ensure_indexes(db, wanted=False) == []
    propietarios = Propietarios(db)
    await propietarios.ensure_index(wanted=False)
    assert PROPIETARIOS not in await db.list_collection_names()


async def test_el_indice_de_propietarios_sigue_la_misma_regla(db: AsyncDatabase[dict[str, Any]]) -> None:
    propietarios = Propietarios(db)
    await propietarios.ensure_index()
    await propietarios.ensure_index()
    assert "cliente_id_1" in await _names(db, PROPIETARIOS)
    await propietarios.ensure_index(wanted=False)
    assert await _names(db, PROPIETARIOS) == {"_id_"}


async def test_dos_instancias_que_arrancan_a_la_vez_quitan_los_indices_sin_error(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await ensure_indexes(db, wanted=True)
    await asyncio.gather(ensure_indexes(db, wanted=False), ensure_indexes(db, wanted=False))
    assert await _names(db, TransaccionDocument.Settings.name) == {"_id_"}
