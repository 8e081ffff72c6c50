"""An account number that is already taken (a random clash) is drawn again, not answered with a 409 or a 500.
Runs the app in-process on a fresh database, so the number generator can be forced to collide."""

import itertools
import uuid
from collections.abc import AsyncIterator

import aiomysql
import httpx
import pytest

from services.cuentas import service
from services.cuentas.domain import luhn_digit
from services.cuentas.main import create_app
from services.cuentas.settings import CuentasSettings
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


async def test_numero_repetido_se_vuelve_a_sortear(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = CuentasSettings(mysql_database=fresh_db, kafka_bootstrap=KAFKA, run_workers=False)
    app = create_app(settings)
    taken = "123456789012" + luhn_digit("123456789012")
    fresh = "987654321098" + luhn_digit("987654321098")
    draws = itertools.chain([taken, taken, taken, fresh], itertools.repeat(fresh))
    monkeypatch.setattr(service, "nuevo_numero_cuenta", lambda: next(draws))

    async with app.router.lifespan_context(app):
        conn = await aiomysql.connect(**MYSQL, db=fresh_db, autocommit=True)
        async with conn.cursor() as cur:
            await cur.execute("INSERT INTO clientes_replica (cliente_id, estado) VALUES (1, 'activo')")
        conn.close()
        async with httpx.AsyncClient(
            auth=Bearer(), transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            first = await client.post("/cuentas", json={"cliente_id": 1, "tipo_cuenta_id": 1})
            second = await client.post("/cuentas", json={"cliente_id": 1, "tipo_cuenta_id": 1})
            third = await client.post("/cuentas", json={"cliente_id": 1, "tipo_cuenta_id": 1})

    assert (first.status_code, first.json()["numero_cuenta"]) == (201, taken)
    assert (second.status_code, second.json()["numero_cuenta"]) == (201, fresh)
    # Every draw is now taken: a bounded number of attempts, then a clean refusal instead of a loop or a 500.
    assert third.status_code == 503
