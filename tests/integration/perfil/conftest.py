"""Fixtures for perfil against the real Kafka and PostgreSQL: fresh topics, a fresh view database, a projection."""

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from consumers.runner import make_consumer
from contracts.base import Message
from contracts.envelope import Envelope, envelope_for
from contracts.topics import CLIENTES, CUENTAS, TRANSACCIONES
from producers.kafka import make_producer
from services.perfil.main import open_store
from services.perfil.runner import LiveProjection
from services.perfil.settings import PerfilSettings
from services.perfil.store import ViewStore
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA, URLS
from tests.integration.pg_scratch import scratch_database


@dataclass(frozen=True)
class Topics:
    """Fresh stand-ins for the three domain topics: same partition counts as production."""

    clientes: str
    cuentas: str
    transacciones: str

    def all(self) -> list[str]:
        return [self.clientes, self.cuentas, self.transacciones]

    def of(self, message: Message) -> str:
        return {CLIENTES: self.clientes, CUENTAS: self.cuentas, TRANSACCIONES: self.transacciones}[message.topic]


@pytest.fixture
async def topics() -> AsyncIterator[Topics]:
    base = f"test.perfil.{uuid.uuid4().hex[:10]}"
    t = Topics(f"{base}.clientes", f"{base}.cuentas", f"{base}.transacciones")
    counts = {t.clientes: 3, t.cuentas: 6, t.transacciones: 6}
    names = [*counts, *(f"{n}.dlq" for n in counts)]
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(n, counts.get(n, 1), 1) for n in names])
    try:
        yield t
    finally:
        await admin.delete_topics(names)
        await admin.close()


@pytest.fixture
async def view_db() -> AsyncIterator[str]:
    """The DSN of a database that does not exist yet (perfil creates it), dropped afterwards."""
    async with scratch_database("perfil_t_", create=False) as dsn:
        yield dsn


@pytest.fixture
async def store(view_db: str) -> AsyncIterator[ViewStore]:
    s = await open_store(PerfilSettings(database_url=view_db, db_pool_max=6))
    yield s
    await s.pool.close()


@pytest.fixture
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    p = make_producer(KAFKA)
    await p.start()
    yield p
    await p.stop()


Publish = Callable[..., Awaitable[list[Envelope]]]


@pytest.fixture
def publish(producer: AIOKafkaProducer, topics: Topics) -> Publish:
    """Publish messages as their services would (CloudEvents, key = aggregate id) to the fresh topics."""

    async def _publish(*messages: Message, envelopes: list[Envelope] | None = None) -> list[Envelope]:
        out = list(envelopes or [])
        out += [dataclasses.replace(envelope_for(m, source="/test"), topic=topics.of(m)) for m in messages]
        futures = [await producer.send(e.topic, e.value(), key=e.key, headers=e.headers()) for e in out]
        await asyncio.gather(*futures)
        return out

    return _publish


class RunningProjection:
    def __init__(self, store: ViewStore, topics: Topics, producer: AIOKafkaProducer) -> None:
        self.store, self.topics, self.producer = store, topics, producer
        self.stop = asyncio.Event()
        # A fresh group per test: its own topics, and no rebalance of the stack's perfil instances.
        self.reader = make_consumer(KAFKA, f"perfil.test.{uuid.uuid4().hex[:8]}", ())
        self.projection = LiveProjection(store, self.reader, producer, topics.all(), max_records=500)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> "RunningProjection":
        await self.reader.start()
        self.task = asyncio.create_task(self.projection.run(self.stop))
        return self

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)
        await self.reader.stop()


@pytest.fixture
async def projection(store: ViewStore, topics: Topics, producer: AIOKafkaProducer) -> AsyncIterator[RunningProjection]:
    running = await RunningProjection(store, topics, producer).start()
    yield running
    await running.close()


FINALES = {"COMPLETADA", "FALLIDA", "CANCELADA"}


class Bank:
    """The owning services' REST APIs (the source of truth) and perfil's (under test)."""

    def __init__(self, clients: dict[str, httpx.AsyncClient]) -> None:
        self.clientes = clients["clientes"]
        self.cuentas = clients["cuentas"]
        self.trx = clients["transacciones"]
        self.perfil = clients["perfil"]

    async def nuevo_cliente(self, nombre: str = "Perfil") -> dict[str, Any]:
        u = uuid.uuid4().hex[:12]
        body = {
            "nombre": nombre,
            "apellido": f"Vista {u}",
            "email": f"perfil.{u}@example.com",
            "telefono": "987654321",
            "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"P{u.upper()}"},
        }
        r = await self.clientes.post("/clientes", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def abrir_cuenta(self, cliente_id: int, saldo: str, moneda: str) -> dict[str, Any]:
        body = {"cliente_id": cliente_id, "tipo_cuenta_id": 2, "saldo": saldo, "moneda": moneda}

        async def attempt() -> dict[str, Any] | None:
            r = await self.cuentas.post("/cuentas", json=body)
            if r.status_code in (404, 502, 503):  # cuentas' replica does not know the cliente yet
                return None
            assert r.status_code == 201, r.text
            return dict(r.json())

        return await eventually(attempt, timeout=60, interval=0.2, what=f"cliente {cliente_id} in cuentas")

    async def transaccion(self, body: dict[str, Any]) -> str:
        """POST a transaction; returns its id without waiting for the saga (see wait_final)."""
        r = await self.trx.post("/transacciones", json=body)
        # 409 with the transaction: its saga refused it (FALLIDA), which is a profile entry too.
        assert r.status_code in (201, 202) or (r.status_code == 409 and r.json()["estado"] == "FALLIDA"), r.text
        return str(r.json()["id"])

    async def wait_final(self, ids: list[str], timeout: float = 120) -> None:
        pending = set(ids)

        async def all_final() -> bool:
            for trx_id in list(pending):
                got = await self.trx.get(f"/transacciones/{trx_id}")
                assert got.status_code == 200, got.text
                if got.json()["estado"] in FINALES:
                    pending.discard(trx_id)
            return not pending

        await eventually(all_final, timeout=timeout, interval=0.5, what=f"transactions {pending} final")

    async def truth(self, cliente_id: int) -> dict[str, Any]:
        """What the owning services say about one cliente right now."""
        cliente = (await self.clientes.get(f"/clientes/{cliente_id}")).json()
        cuentas = (await self.cuentas.get(f"/cuentas/cliente/{cliente_id}")).json()
        trxs: dict[str, dict[str, Any]] = {}
        for cuenta in cuentas:
            skip = 0
            while True:  # page to the end: a busy account has more than one page
                r = await self.trx.get(
                    f"/transacciones/cuenta/{cuenta['cuenta_id']}", params={"skip": skip, "limit": 500}
                )
                assert r.status_code == 200, r.text
                page = r.json()
                trxs |= {t["transaccionId"]: t for t in page if t["estado"] in FINALES}
                if len(page) < 500:
                    break
                skip += len(page)
        return {"cliente": cliente, "cuentas": cuentas, "transacciones": trxs}


class RetryingTransport(httpx.AsyncBaseTransport):
    """Other suites kill and restart service instances (failover tests): a refused connection or a 502/503
    from the balancer is retried for a while instead of failing a perfil test for someone else's chaos."""

    def __init__(self, patience: float = 30.0) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._patience = patience

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline = asyncio.get_running_loop().time() + self._patience
        while True:
            try:
                response = await self._inner.handle_async_request(request)
            except (httpx.ConnectError, httpx.RemoteProtocolError):
                if asyncio.get_running_loop().time() > deadline:
                    raise
            else:
                if response.status_code not in (502, 503) or asyncio.get_running_loop().time() > deadline:
                    return response
                await response.aclose()
            await asyncio.sleep(0.5)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture(scope="module")
async def bank() -> AsyncIterator[Bank]:
    names = ("clientes", "cuentas", "transacciones", "perfil")
    clients = {
        n: httpx.AsyncClient(auth=Bearer(), base_url=URLS[n], timeout=60, transport=RetryingTransport()) for n in names
    }
    try:
        for name, client in clients.items():
            r = await client.get("/health")
            assert r.status_code == 200, f"{name} is not healthy at {URLS[name]}: {r.text}"
        yield Bank(clients)
    finally:
        for client in clients.values():
            await client.aclose()
