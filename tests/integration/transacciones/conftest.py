"""Fixtures for transacciones against the real running services: clientes (:8001) and cuentas (:8002) to set
up accounts through their APIs, transacciones (:8004) under test; the real Mongo-wire store (FerretDB) for the
parts tested against it directly, each in a scratch database of its own."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import MONGO_URL, URLS

FINALES = {"COMPLETADA", "FALLIDA", "CANCELADA"}


def registrada(r: httpx.Response) -> bool:
    """The POST recorded the transaction: 201 final, 202 running, or 409 with it FALLIDA (the saga refused it)."""
    return r.status_code in (201, 202) or (r.status_code == 409 and r.json().get("estado") == "FALLIDA")


class Banco:
    """The three APIs a money test needs, with the few steps every test repeats."""

    def __init__(self, clientes: httpx.AsyncClient, cuentas: httpx.AsyncClient, trx: httpx.AsyncClient) -> None:
        self.clientes = clientes
        self.cuentas = cuentas
        self.trx = trx

    async def nuevo_cliente(self) -> int:
        u = uuid.uuid4().hex[:12]
        body = {
            "nombre": "Tere",
            "apellido": f"Saga {u}",
            "email": f"saga.{u}@example.com",
            "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"T{u.upper()}"},
        }
        r = await self.clientes.post("/clientes", json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["cliente_id"])

    async def abrir_cuenta(self, cliente_id: int, saldo: str = "0.00", moneda: str = "PEN") -> int:
        """Once cuentas' replica knows the cliente (404 until ClienteCreado arrives there)."""
        body = {"cliente_id": cliente_id, "tipo_cuenta_id": 1, "saldo": saldo, "moneda": moneda}

        async def attempt() -> int | None:
            r = await self.cuentas.post("/cuentas", json=body)
            if r.status_code in (404, 502, 503):  # not in the replica yet / balancer between instances
                return None
            assert r.status_code == 201, r.text
            return int(r.json()["cuenta_id"])

        return await eventually(attempt, timeout=60, interval=0.2, what=f"cliente {cliente_id} in cuentas")

    async def leer(self, url: str, params: dict[str, Any] | None = None, timeout: float = 120) -> httpx.Response:
        """GET from cuentas, waiting out 502/503: after a kill test the instances may still be restarting (minutes
        under heavy load), and reading the books is not the availability being measured."""

        async def attempt() -> httpx.Response | None:
            r = await self.cuentas.get(url, params=params)
            return None if r.status_code in (502, 503) else r

        return await eventually(attempt, timeout=timeout, interval=0.5, what=f"cuentas to answer {url}")

    async def saldo(self, cuenta_id: int) -> Decimal:
        r = await self.leer(f"/cuentas/{cuenta_id}")
        assert r.status_code == 200, r.text
        return Decimal(r.json()["saldo"])

    async def estado_cuenta(self, cuenta_id: int, estado: str) -> None:
        r = await self.cuentas.patch(f"/cuentas/{cuenta_id}/estado", json={"estado": estado})
        assert r.status_code == 200, r.text

    async def movimientos(self, cuenta_id: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            r = await self.leer(f"/cuentas/{cuenta_id}/movimientos", params={"skip": len(rows), "limit": 500})
            assert r.status_code == 200, r.text
            page = r.json()
            rows += page
            if len(page) < 500:
                return rows

    async def post(self, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return await self.trx.post("/transacciones", json=body, headers=headers)

    async def final(self, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        """POST and, if the saga is still running (202), poll until the transaction is final."""
        r = await self.post(body, key)
        assert registrada(r), r.text
        return await self.esperar_final(r.json()["id"]) if r.status_code == 202 else dict(r.json())

    async def esperar_final(self, trx_id: str, timeout: float = 30) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            r = await self.trx.get(f"/transacciones/{trx_id}")
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body if body["estado"] in FINALES else None

        return await eventually(probe, timeout=timeout, interval=0.1, what=f"transaction {trx_id} final")


@pytest.fixture
async def banco() -> AsyncIterator[Banco]:
    async with (
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["clientes"], timeout=20) as clientes,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["cuentas"], timeout=20) as cuentas,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["transacciones"], timeout=20) as trx,
    ):
        yield Banco(clientes, cuentas, trx)


CuentaFactory = Callable[..., Awaitable[int]]


@pytest.fixture
async def cuenta(banco: Banco) -> CuentaFactory:
    """Opens accounts of one fresh cliente: `await cuenta("100.00", moneda="USD")`."""
    cliente_id = await banco.nuevo_cliente()

    async def factory(saldo: str = "0.00", moneda: str = "PEN") -> int:
        return await banco.abrir_cuenta(cliente_id, saldo, moneda)

    return factory


@pytest.fixture
async def mongo() -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
async def db(mongo: AsyncMongoClient[dict[str, Any]]) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A scratch database, dropped afterwards."""
    name = f"trx_test_{uuid.uuid4().hex[:10]}"
    yield mongo[name]
    await mongo.drop_database(name)
