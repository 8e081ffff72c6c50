"""Helpers of the resilience tests: the services' addresses, writes that create what they need, and the wait until
the whole stack is healthy again (every test here breaks infrastructure and must leave it as it found it)."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpx
import pytest

from tests.conftest import eventually
from tests.integration import stack
from tests.integration.auth import Bearer
from tests.integration.clientes.kafka_tail import Record, Tail
from tests.integration.conftest import URLS

# Every instance's own /health (cuentas and transacciones behind the balancer: each instance, then through HAProxy).
HEALTH = {
    "clientes": f"{URLS['clientes']}/health",
    "cuentas-1": "http://127.0.0.1:8012/health",
    "cuentas-2": "http://127.0.0.1:8013/health",
    "cuentas (haproxy)": f"{URLS['cuentas']}/health",
    "perfil-1": "http://127.0.0.1:6010/health",
    "perfil-2": "http://127.0.0.1:6011/health",
    "perfil": f"{URLS['perfil']}/health",
    "transacciones-1": "http://127.0.0.1:8014/health",
    "transacciones-2": "http://127.0.0.1:8015/health",
    "transacciones (haproxy)": f"{URLS['transacciones']}/health",
}
HAPROXY_CSV = "http://127.0.0.1:8404/;csv"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(auth=Bearer(), timeout=15) as client:
        yield client


def nuevo_cliente() -> dict[str, Any]:
    u = uuid.uuid4().hex[:12]
    return {
        "nombre": "Resiliencia",
        "apellido": f"Prueba {u}",
        "email": f"resiliencia.{u}@example.com",
        "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"R{u.upper()}"},
    }


async def crear_cliente(http: httpx.AsyncClient) -> int:
    r = await http.post(f"{URLS['clientes']}/clientes", json=nuevo_cliente())
    assert r.status_code == 201, r.text
    cliente_id: int = r.json()["cliente_id"]
    return cliente_id


async def abrir_cuenta(http: httpx.AsyncClient, cliente_id: int, saldo: str = "0.00") -> int:
    """An account of `cliente_id`, once cuentas' replica has learnt of the cliente (404 until its event arrived)."""
    body = {"cliente_id": cliente_id, "tipo_cuenta_id": 1, "saldo": saldo, "moneda": "PEN"}

    async def attempt() -> int | None:
        r = await http.post(f"{URLS['cuentas']}/cuentas", json=body)
        if r.status_code == 404:
            return None
        assert r.status_code == 201, r.text
        cuenta_id: int = r.json()["cuenta_id"]
        return cuenta_id

    return await eventually(attempt, timeout=60, interval=0.2, what=f"cliente {cliente_id} in cuentas' replica")


async def health(http: httpx.AsyncClient, url: str) -> tuple[int, dict[str, Any]]:
    """(status code, body) of a /health; (0, {}) when nothing answers."""
    try:
        r = await http.get(url, timeout=5)
    except httpx.TransportError:
        return 0, {}
    body: dict[str, Any] = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    return r.status_code, body


async def todo_sano(http: httpx.AsyncClient, timeout: float = 90) -> None:
    """Every service healthy again: 200 with every dependency connected (Kafka included)."""

    async def all_healthy() -> list[str] | None:
        sick = [name for name, url in HEALTH.items() if (await health(http, url))[1].get("status") != "healthy"]
        return None if sick else ["ok"]

    await eventually(all_healthy, timeout=timeout, interval=0.5, what="every service healthy again")


async def haproxy_servers(http: httpx.AsyncClient) -> dict[str, str]:
    """{server: status} of the cuentas backend from the HAProxy stats CSV, e.g. {"cuentas-1": "UP", ...}."""
    lines = (await http.get(HAPROXY_CSV)).text.splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {r["svname"]: r["status"] for r in rows if r["pxname"] == "cuentas" and r["svname"].startswith("cuentas-")}


def restart_if_down(program: str) -> None:
    """Start an infra program a test stopped (a no-op when it runs); `kafka` is every broker of the stack."""
    for name in stack.kafka_programs() if program == "kafka" else [program]:
        if not stack.pid(name):
            stack.supervisorctl("start", stack.full_name(name))


def of_type(event: str, field: str, **where: object) -> Callable[[Record], object]:
    """Key of a record for `seen_all`: its payload's `field` when it is an `event` (ce_type suffix) matching `where`."""

    def key(r: Record) -> object:
        if not r.headers.get("ce_type", "").endswith(f".{event}.v1"):
            return None
        if any(r.data.get(k) != v for k, v in where.items()):
            return None
        return r.data.get(field)

    return key


async def seen_all(tail: Tail, wanted: Iterable[object], key: Callable[[Record], object], *, timeout: float) -> None:
    """Poll `tail` until every value in `wanted` is the key of some record (the missing ones named on failure)."""
    want = set(wanted)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while missing := want - {key(r) for r in tail.records}:
        if loop.time() > deadline:
            raise AssertionError(
                f"{len(missing)} of {len(want)} never reached {tail.topic}: {sorted(map(str, missing))[:10]}"
            )
        with contextlib.suppress(AssertionError):
            await tail.wait_for(lambda _: False, timeout=0.5)
