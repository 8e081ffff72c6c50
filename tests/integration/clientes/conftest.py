"""Fixtures for the clientes tests: an HTTP client on the running service (:8001) and unique request bodies."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.auth import Bearer
from tests.integration.conftest import URLS
from tests.integration.pg_scratch import scratch_database

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
    async with scratch_database("clientes_t_") as dsn:
        yield dsn
