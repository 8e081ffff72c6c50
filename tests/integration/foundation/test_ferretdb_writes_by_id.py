"""Replacements and deletes addressed by `_id` on the real FerretDB, whose build (infra/ferretdb/fastpath.patch)
writes them without reading the stored document: what MongoDB answers must not change, nor may any other filter."""

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, DeleteOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from tests.integration.conftest import MONGO_URL

Coll = AsyncCollection[dict[str, Any]]
COMMON_SH = Path(__file__).resolve().parents[3] / "infra" / "lib" / "common.sh"


@pytest.fixture
async def coll() -> AsyncIterator[Coll]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL)
    db = client[f"t_{uuid.uuid4().hex[:10]}"]
    yield db["docs"]
    await client.drop_database(db.name)
    await client.close()


async def test_reemplazar_por_id_sustituye_el_documento_entero_y_conserva_el_id(coll: Coll) -> None:
    a, b = ObjectId(), ObjectId()
    await coll.insert_many([{"_id": a, "estado": "PENDIENTE", "viejo": 1}, {"_id": b, "estado": "PENDIENTE"}])
    result = await coll.replace_one({"_id": a}, {"estado": "COMPLETADA", "monto": "10.50"})
    assert result.matched_count == 1
    stored = await coll.find_one({"_id": a})
    assert stored == {"_id": a, "estado": "COMPLETADA", "monto": "10.50"}
    assert next(iter(stored)) == "_id"
    assert await coll.find_one({"_id": b}) == {"_id": b, "estado": "PENDIENTE"}  # the other one untouched
    # The replacement may name its own _id, as long as it is the same.
    await coll.replace_one({"_id": a}, {"_id": a, "estado": "FALLIDA"})
    assert await coll.find_one({"_id": a}) == {"_id": a, "estado": "FALLIDA"}


async def test_reemplazar_un_id_que_no_existe_no_inserta_nada(coll: Coll) -> None:
    await coll.insert_one({"_id": ObjectId(), "x": 1})
    result = await coll.replace_one({"_id": ObjectId()}, {"x": 2})
    assert (result.matched_count, result.modified_count) == (0, 0)
    assert await coll.count_documents({}) == 1
    # With upsert (the upstream path) it is inserted, under the filter's _id.
    missing = ObjectId()
    result = await coll.replace_one({"_id": missing}, {"x": 3}, upsert=True)
    assert result.upserted_id == missing
    assert await coll.find_one({"_id": missing}) == {"_id": missing, "x": 3}


async def test_un_reemplazo_no_puede_cambiar_el_id(coll: Coll) -> None:
    a = ObjectId()
    await coll.insert_one({"_id": a, "x": 1})
    with pytest.raises(OperationFailure, match="_id"):
        await coll.replace_one({"_id": a}, {"_id": ObjectId(), "x": 2})
    assert await coll.find_one({"_id": a}) == {"_id": a, "x": 1}


async def test_reemplazos_en_lote_por_id_de_texto_y_de_objectid(coll: Coll) -> None:
    ids: list[Any] = [ObjectId() for _ in range(40)] + [f"clave-{i}" for i in range(40)]
    await coll.insert_many([{"_id": i, "n": 0} for i in ids])
    result = await coll.bulk_write([ReplaceOne({"_id": i}, {"n": 1}) for i in ids], ordered=False)
    assert result.matched_count == len(ids)
    assert await coll.count_documents({"n": 1}) == len(ids)


async def test_borrar_por_id_borra_ese_y_solo_ese(coll: Coll) -> None:
    a, b = ObjectId(), ObjectId()
    await coll.insert_many([{"_id": a}, {"_id": b}, {"_id": "texto"}])
    assert (await coll.delete_one({"_id": a})).deleted_count == 1
    assert (await coll.delete_one({"_id": a})).deleted_count == 0
    assert (await coll.delete_one({"_id": "texto"})).deleted_count == 1
    result = await coll.bulk_write([DeleteOne({"_id": b}), DeleteOne({"_id": ObjectId()})], ordered=False)
    assert result.deleted_count == 1
    assert await coll.count_documents({}) == 0


async def test_los_demas_filtros_siguen_la_semantica_de_mongodb(coll: Coll) -> None:
    # A numeric _id matches any equal number (1 and 1.0): the upstream path, which compares values, not JSON text.
    await coll.insert_many([{"_id": 1.0, "x": 1}, {"_id": 2, "x": 2}, {"_id": ObjectId(), "x": 3}])
    assert (await coll.replace_one({"_id": 1}, {"x": 10})).matched_count == 1
    assert await coll.find_one({"_id": 1}) == {"_id": 1.0, "x": 10}
    assert (await coll.delete_one({"_id": 2.0})).deleted_count == 1
    # _id plus another condition: the condition still decides.
    assert (await coll.delete_one({"_id": 1.0, "x": 99})).deleted_count == 0
    assert (await coll.replace_one({"_id": 1.0, "x": 99}, {"x": 0})).matched_count == 0
    assert await coll.count_documents({}) == 2


def _our_build() -> str:
    """FERRETDB_BUILD of infra/lib/common.sh, which names the patches it carries."""
    text = COMMON_SH.read_text()
    version = re.search(r'^FERRETDB_VERSION="([^"]+)"', text, re.M)
    build = re.search(r'^FERRETDB_BUILD="([^"]+)"', text, re.M)
    assert version is not None
    assert build is not None
    return build.group(1).replace("$FERRETDB_VERSION", version.group(1))


async def test_la_pila_corre_nuestra_compilacion_de_ferretdb(coll: Coll) -> None:
    """The tests above pass on upstream FerretDB too (the semantics are MongoDB's); this one says they ran against
    the patched build, not a stale binary of another build left in the cache."""
    info = await coll.database.command("buildInfo")
    if "ferretdbVersion" in info:  # MongoDB has no such field
        assert info["ferretdbVersion"] == _our_build()
