"""The cuentas projection's set-based batches against the real PostgreSQL: a batch of mixed changes (every kind,
repeated accounts, movements out of order) leaves the table exactly as the same changes applied one at a time, and
both as the model the unit tests use (tests/cambios_cuenta.py) says."""

import random
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest

from services.clientes.main import MIGRATIONS
from services.clientes.projection import CambioCuenta
from services.clientes.repository import apply_cambios_cuenta, migrate
from tests.cambios_cuenta import Fila, aplicar, cambios_al_azar


@pytest.fixture
async def db(scratch_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(scratch_dsn, min_size=1, max_size=2) as pool:
        async with pool.acquire() as conn:
            await migrate(conn, MIGRATIONS)
        yield pool


async def _filas(db: asyncpg.Pool, cuentas: range) -> dict[int, Fila]:
    rows = await db.fetch(
        "SELECT * FROM cuentas_cliente WHERE cuenta_id BETWEEN $1 AND $2", cuentas.start, cuentas.stop - 1
    )
    return {
        r["cuenta_id"] - cuentas.start: Fila(
            r["cliente_id"] - 10 * cuentas.start, r["estado"], r["saldo"], r["ultimo_movimiento_id"], r["eliminada"]
        )
        for r in rows
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_un_lote_deja_lo_mismo_que_uno_por_uno_y_que_el_modelo(db: asyncpg.Pool, seed: int) -> None:
    rng = random.Random(seed)
    cambios = cambios_al_azar(rng, 400, range(0, 12))
    esperado: dict[int, Fila] = {}
    for cambio in cambios:
        aplicar(esperado, cambio)

    # The same changes under two disjoint id ranges: one batch, and one call per change.
    lote, uno = range(1000, 1012), range(2000, 2012)

    def movido(rango: range) -> list[CambioCuenta]:
        return [
            replace(c, cuenta_id=c.cuenta_id + rango.start, cliente_id=c.cliente_id + 10 * rango.start) for c in cambios
        ]

    async with db.acquire() as conn, conn.transaction():
        await apply_cambios_cuenta(conn, movido(lote))
    for cambio in movido(uno):
        async with db.acquire() as conn, conn.transaction():
            await apply_cambios_cuenta(conn, [cambio])

    assert await _filas(db, lote) == esperado
    assert await _filas(db, uno) == esperado
