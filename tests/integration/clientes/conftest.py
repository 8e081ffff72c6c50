"""Fixtures for the clientes tests: an HTTP client on the running service (:8001) and unique request bodies."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.integration.auth import Bearer
from tests.integration.conftest import PG_DSN, URLS

BASE = URLS["clientes"]


def nuevo_cliente(tag: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid POST /clientes body with a unique email and passport number (apellido carries `tag` for q filters)."""
    u = uuid.uuid4().hex[:12]
    body: dict[str, Any] = {
        "nombre": "Ana",
        "apellido": f"Prueba {tag or u}",
        "email": f"ana.{u}@example.com",
        "telefono": "987654321",
        "documento": {
            "tipo_documento": "Pasaporte",
            "numero_documento": f"P{u.upper()}",
            "fecha_emision": "2020-01-15",
            "fecha_vencimiento": "2030-01-15",
        },
    }
    return body | overrides


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(auth=Bearer(), base_url=BASE, timeout=15.0) as client:
        yield client


@pytest.fixture
async def cliente(api: httpx.AsyncClient) -> dict[str, Any]:
    """A freshly registered cliente (the 201 body)."""
    response = await api.post("/clientes", json=nuevo_cliente())
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
async def scratch_dsn() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for an in-process clientes (dropped afterwards); yields its DSN."""
    name = f"clientes_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def in_process(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and talk to it without a server (httpx's ASGITransport runs no lifespan itself)."""
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            # What uvicorn does with the lifespan's state: each request sees a shallow copy.
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(auth=Bearer(), transport=transport, base_url="http://clientes") as client:
            yield client
