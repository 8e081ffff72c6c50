"""The account-owner replica (propietarios.py) on the real Mongo-wire store: what it folds, what it answers, and that
every lookup and write it makes is one FerretDB answers from its primary key instead of decoding the collection."""

import asyncio
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from contracts.envelope import envelope_for
from services.transacciones.propietarios import COLLECTION, Propietarios, clave
from tests.aperturas import abierta


async def test_las_aperturas_se_pliegan_una_vez_y_responden_dueno_moneda_y_cuentas(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    propietarios = Propietarios(db)
    await propietarios.ensure_index()
    aperturas = [envelope_for(abierta(7, 1), source="cuentas"), envelope_for(abierta(8, 1, "USD"), source="cuentas")]
    assert await propietarios.aplicar(aperturas) == 2
    await propietarios.aplicar([aperturas[0]])  # redelivered: the same row again
    assert await db[COLLECTION].count_documents({}) == 2
    # a poll redelivering one opening beside a new one: the copy is skipped, the new one still lands
    assert await propietarios.aplicar([aperturas[1], envelope_for(abierta(10, 2), source="cuentas")]) == 2
    assert await db[COLLECTION].count_documents({}) == 3
    assert await propietarios.dueno(10) == 2
    assert await propietarios.dueno(7) == 1
    assert await propietarios.moneda(8) == "USD"
    assert await propietarios.dueno(9) is None
    assert await propietarios.cuentas_de(1) == frozenset({7, 8})


async def test_sus_busquedas_van_por_la_clave_primaria_en_ferretdb(db: AsyncDatabase[dict[str, Any]]) -> None:
    """FerretDB 1.x pushes `{_id: v}` down to its primary key only for a string or ObjectId v; an integer id made
    every upsert and lookup a scan of the whole collection (folding n openings: O(n²))."""
    propietarios = Propietarios(db)
    await propietarios.aplicar([envelope_for(abierta(7, 1), source="cuentas")])
    explain = await db.command("explain", {"find": COLLECTION, "filter": {"_id": clave(7)}}, verbosity="queryPlanner")
    info = await db.command("buildInfo")
    if "ferretdbVersion" in info:  # MongoDB has no such field (and always uses its _id index)
        assert explain["filterPushdown"] is True
    assert (await db[COLLECTION].find_one({"_id": clave(7)}) or {}).get("cliente_id") == 1


async def test_un_lote_grande_de_aperturas_no_agota_las_conexiones_de_ferretdb(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    """A poll's worth of openings (a seed's: hundreds): one update command of that many upserts by primary key kept
    one SQLite connection per statement open and deadlocked FerretDB's pool of 100 for good."""
    propietarios = Propietarios(db)
    aperturas = [envelope_for(abierta(1000 + i, 1 + i % 7), source="cuentas") for i in range(250)]
    assert await asyncio.wait_for(propietarios.aplicar(aperturas), timeout=60) == 250
    assert await db[COLLECTION].count_documents({}) == 250
    assert await propietarios.dueno(1249) == 1 + 249 % 7
