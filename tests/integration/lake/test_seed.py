"""`bank seed`'s loader against the real services: it tops the system up by exactly what is asked, through the
batch endpoints, waits for every saga, and a second run finds nothing to do."""

import httpx
import pytest

from bank.seed.loader import Seeder
from bank.seed.targets import Targets, Urls
from tests.integration.auth import Bearer
from tests.integration.conftest import URLS

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _count(http: httpx.AsyncClient, url: str) -> int:
    response = await http.get(url, params={"limit": 1})
    response.raise_for_status()
    return int(response.headers["X-Total-Count"])


async def test_la_siembra_completa_lo_que_falta_y_luego_no_hace_nada() -> None:
    urls = Urls(URLS["clientes"], URLS["cuentas"], URLS["transacciones"])
    async with httpx.AsyncClient(auth=Bearer(), timeout=30) as http:
        before = Targets(
            await _count(http, f"{urls.clientes}/clientes"),
            await _count(http, f"{urls.cuentas}/cuentas"),
            await _count(http, f"{urls.transacciones}/transacciones"),
        )
        wanted = Targets(before.clientes + 40, before.cuentas + 30, before.transacciones + 60)
        seeder = Seeder(urls, batch=25, seed=4242, progress=False, settle_timeout=240)
        clientes, cuentas, transacciones = await seeder.run(wanted)

        assert (clientes.created, clientes.failed) == (40, 0)
        assert await _count(http, f"{urls.clientes}/clientes") >= wanted.clientes
        assert (cuentas.created, cuentas.failed) == (30, 0)
        assert await _count(http, f"{urls.cuentas}/cuentas") >= wanted.cuentas
        assert (transacciones.created, transacciones.failed) == (60, 0)
        assert transacciones.settled_seconds is not None  # every saga it started has ended
        assert sum(transacciones.outcomes.values()) >= wanted.transacciones

        again = await seeder.run(wanted)
        assert [r.created for r in again] == [0, 0, 0]
