"""An account number that is already taken (a random clash) is drawn again, not answered with a 409 or a 500.
Runs the app in-process on a fresh database, so the number generator can be forced to collide."""

import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiomysql
import httpx
import pytest

from services.cuentas import service
from services.cuentas.domain import luhn_digit
from services.cuentas.main import create_app
from services.cuentas.settings import CuentasSettings
from tests.asgi import in_process
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA, MYSQL


@pytest.fixture
async def fresh_db() -> AsyncIterator[str]:
    name = f"t_cuentas_{uuid.uuid4().hex[:10]}"
    yield name
    conn = await aiomysql.connect(**MYSQL, autocommit=True)
    async with conn.cursor() as cur:
        await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


@asynccontextmanager
async def _cuentas(
    fresh_db: str, draws: Iterator[str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """cuentas in-process on the fresh database, drawing these account numbers, with clientes 1 and 2 activos."""
    monkeypatch.setattr(service, "nuevo_numero_cuenta", lambda: next(draws))
    app = create_app(CuentasSettings(mysql_database=fresh_db, kafka_bootstrap=KAFKA, run_workers=False))
    async with in_process(app, auth=Bearer()) as client:
        await _sql(fresh_db, "INSERT INTO clientes_replica (cliente_id, estado) VALUES (1, 'activo'), (2, 'activo')")
        yield client


async def _sql(db: str, query: str) -> list[tuple[Any, ...]]:
    conn = await aiomysql.connect(**MYSQL, db=db, autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(query)
            return list(await cur.fetchall())
    finally:
        conn.close()


def _numero(base: str) -> str:
    return base + luhn_digit(base)


async def test_numero_repetido_se_vuelve_a_sortear(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    taken, fresh = _numero("123456789012"), _numero("987654321098")
    draws = itertools.chain([taken, taken, taken, fresh], itertools.repeat(fresh))
    async with _cuentas(fresh_db, draws, monkeypatch) as client:
        first = await client.post("/cuentas", json={"cliente_id": 1, "tipo_cuenta_id": 1})
        second = await client.post("/cuentas", json={"cliente_id": 1, "tipo_cuenta_id": 1})
        third = await client.post("/cuentas", json={"cliente_id": 1, "tipo_cuenta_id": 1})

    assert (first.status_code, first.json()["numero_cuenta"]) == (201, taken)
    assert (second.status_code, second.json()["numero_cuenta"]) == (201, fresh)
    # Every draw is now taken: a bounded number of attempts, then a clean refusal instead of a loop or a 500.
    assert third.status_code == 503


async def test_un_lote_con_un_numero_repetido_se_abre_uno_por_uno(
    fresh_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is opened in one insert; a drawn number that is taken turns it into one insert per account, with the
    first insert's rows undone (no account twice), and every opening balance on its own account's ledger."""
    taken, a, b = _numero("111111111111"), _numero("222222222222"), _numero("333333333333")
    c, d, e = _numero("444444444444"), _numero("555555555555"), _numero("666666666666")
    saldos = ["10.00", "0.00", "25.50"]
    async with _cuentas(fresh_db, iter([taken, taken, a, b, taken, c, d, e]), monkeypatch) as client:
        first = await client.post("/cuentas", json={"cliente_id": 1, "tipo_cuenta_id": 1})
        assert (first.status_code, first.json()["numero_cuenta"]) == (201, taken)
        lote = await client.post(
            "/cuentas/lote",
            json={"cuentas": [{"cliente_id": 2, "tipo_cuenta_id": 1, "saldo": s} for s in saldos]},
        )
        assert lote.status_code == 200, lote.text
        ids = [item["id"] for item in lote.json()["resultados"]]
        cuentas = [(await client.get(f"/cuentas/{i}")).json() for i in ids]
        ledgers = [(await client.get(f"/cuentas/{i}/movimientos")).json() for i in ids]

    assert [(x["numero_cuenta"], x["saldo"]) for x in cuentas] == [(c, "10.00"), (d, "0.00"), (e, "25.50")]
    apertura = [[(m["causa"], m["monto"], m["saldo_resultante"]) for m in led] for led in ledgers]
    assert apertura == [[("APERTURA", "10.00", "10.00")], [], [("APERTURA", "25.50", "25.50")]]
    numeros = await _sql(fresh_db, "SELECT numero_cuenta FROM cuentas ORDER BY cuenta_id")
    assert [r[0] for r in numeros] == [taken, c, d, e]
