"""The lists' in-memory index answers exactly what the repository's query would: filters, newest first, totals."""

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from contracts.transacciones import EstadoTransaccion, TipoTransaccion
from services.transacciones.domain import Transaccion
from services.transacciones.listing import LIST_FIELDS, Listado
from services.transacciones.repository import Filtro
from tests.unit.transacciones.fakes import environment
from tests.unit.transacciones.test_service import pedido

TIPOS: tuple[TipoTransaccion, ...] = ("DEPOSITO", "RETIRO", "TRANSFERENCIA", "PAGO_SERVICIO")
ESTADOS: tuple[EstadoTransaccion, ...] = ("PENDIENTE", "COMPLETADA", "FALLIDA", "CANCELADA")
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _row(rng: random.Random) -> dict[str, Any]:
    fecha = T0 + timedelta(milliseconds=rng.randrange(0, 10 * 86_400_000, 250))  # ties on purpose
    return {
        "_id": ObjectId(),
        "fecha": fecha,
        "tipo": rng.choice(TIPOS),
        "estado": rng.choice(ESTADOS),
        "cuenta_origen_id": rng.choice([None, *range(1, 20)]),
        "cuenta_destino_id": rng.choice([None, *range(1, 20)]),
    }


def _reference(rows: list[dict[str, Any]], f: Filtro, skip: int, limit: int) -> tuple[list[ObjectId], int]:
    """What MongoRepository.page asks the store for: the filter, sorted by (fecha, _id) descending."""
    match = [
        r
        for r in rows
        if (f.tipo is None or r["tipo"] == f.tipo)
        and (f.estado is None or r["estado"] == f.estado)
        and (f.cuenta_id is None or f.cuenta_id in (r["cuenta_origen_id"], r["cuenta_destino_id"]))
        and (f.desde is None or r["fecha"] >= f.desde)
        and (f.hasta is None or r["fecha"] <= f.hasta)
        and (f.cuentas is None or bool(f.cuentas & {r["cuenta_origen_id"], r["cuenta_destino_id"]}))
    ]
    match.sort(key=lambda r: (r["fecha"], str(r["_id"])), reverse=True)
    return [r["_id"] for r in match[skip : skip + limit]], len(match)


@pytest.mark.parametrize("seed", range(5))
def test_paginas_iguales_a_la_consulta_del_almacen(seed: int) -> None:
    rng = random.Random(seed)
    rows = [_row(rng) for _ in range(600)]
    listado = Listado()
    shuffled = rows[:]
    rng.shuffle(shuffled)
    listado.add_scanned(shuffled)  # scan order is arbitrary; the index orders
    for _ in range(60):
        desde = T0 + timedelta(days=rng.uniform(0, 10)) if rng.random() < 0.3 else None
        f = Filtro(
            tipo=rng.choice([None, *TIPOS]),
            estado=rng.choice([None, None, *ESTADOS]),
            cuenta_id=rng.choice([None, None, *range(1, 20)]),
            desde=desde,
            hasta=desde + timedelta(days=rng.uniform(0, 5)) if desde and rng.random() < 0.5 else None,
            cuentas=rng.choice([None, None, frozenset(rng.sample(range(1, 20), 3))]),  # a customer's own
        )
        skip, limit = rng.choice([0, 0, 3, 50]), rng.choice([1, 20, 100])
        assert listado.page(f, skip, limit) == _reference(rows, f, skip, limit)


def test_lo_que_anuncia_el_escritor_gana_al_escaneo_y_los_cambios_de_estado_se_ven() -> None:
    row = _row(random.Random(7)) | {"estado": "PENDIENTE"}
    listado = Listado()
    listado.add_scanned([row])
    assert listado.page(Filtro(estado="PENDIENTE"), 0, 10) == ([row["_id"]], 1)
    fields = {k: v for k, v in row.items() if k != "_id"}
    listado.on_written(Transaccion.model_construct(id=row["_id"], **(fields | {"estado": "COMPLETADA"})))
    assert listado.add_scanned([row]) == 0  # a stale scanned copy does not undo the newer state
    assert listado.page(Filtro(estado="PENDIENTE"), 0, 10) == ([], 0)
    assert listado.page(Filtro(estado="COMPLETADA"), 0, 10) == ([row["_id"]], 1)
    assert len(listado) == 1


async def test_el_servicio_lista_desde_el_indice_en_cuanto_esta_listo() -> None:
    async with environment(wait_seconds=0.01) as env:
        created = [await env.service.crear(pedido(), None) for _ in range(5)]
        listado = Listado()
        env.store.subscribe(listado.on_written)
        env.service.listado = listado
        stop = asyncio.Event()
        build = asyncio.create_task(listado.build(lambda: env.repo.list_scans(LIST_FIELDS), stop))
        await asyncio.sleep(0.05)
        assert listado.ready
        six = await env.service.crear(pedido(), None)  # after the scan: announced by the writer
        page, total = await env.service.listar(Filtro(), 0, 3)
        assert total == 6
        assert [t.id for t in page] == [six.id, created[4].id, created[3].id]
        stop.set()
        await build
