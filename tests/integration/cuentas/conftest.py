"""Fixtures for cuentas against the real stack: HTTP through the balancer, clientes fed to the replica, and a tap
on Kafka topics that only sees what was published after it opened."""

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiomysql
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import topics
from contracts.base import Message
from contracts.clientes import ClienteActualizado, ClienteCreado
from contracts.envelope import envelope_for
from producers.kafka import make_producer, publish
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA, MYSQL, URLS

CUENTAS = URLS["cuentas"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(auth=Bearer(), base_url=CUENTAS, timeout=15) as client:
        yield client


@pytest.fixture(scope="session")
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    p = make_producer(KAFKA, client_id="tests-cuentas")
    await p.start()
    yield p
    await p.stop()


@pytest.fixture(scope="session")
async def db() -> AsyncIterator[aiomysql.Pool]:
    """Read-only peeks at the ledger (saldo == Σ movimientos) that the API does not expose as one number."""
    pool = await aiomysql.create_pool(**MYSQL, db="cuentas", autocommit=True, minsize=1, maxsize=3)
    yield pool
    pool.close()
    await pool.wait_closed()


def nuevo_cliente_id() -> int:
    """Ids far above anything MS1 hands out, so replica-only test clientes never collide with real ones."""
    return random.randint(900_000_000, 2_000_000_000)


async def publicar(producer: AIOKafkaProducer, message: Message) -> None:
    await publish(producer, envelope_for(message, source="/tests/cuentas"))


async def publicar_cliente(producer: AIOKafkaProducer, cliente_id: int, estado: str = "activo") -> None:
    await publicar(
        producer,
        ClienteCreado(
            cliente_id=cliente_id,
            nombre="Test",
            apellido="Cuentas",
            email=f"c{cliente_id}@test.pe",
            estado=estado,  # type: ignore[arg-type]
            fecha_registro=datetime.now(UTC),
        ),
    )


async def actualizar_cliente(producer: AIOKafkaProducer, cliente_id: int, estado: str) -> None:
    await publicar(
        producer,
        ClienteActualizado(
            cliente_id=cliente_id,
            nombre="Test",
            apellido="Cuentas",
            email=f"c{cliente_id}@test.pe",
            estado=estado,  # type: ignore[arg-type]
        ),
    )


async def abrir_cuenta(
    http: httpx.AsyncClient, cliente_id: int, *, saldo: str = "0.00", moneda: str = "PEN", tipo: int = 1
) -> dict[str, Any]:
    """Open an account once the replica knows the cliente (404 until its event has arrived)."""
    body = {"cliente_id": cliente_id, "tipo_cuenta_id": tipo, "saldo": saldo, "moneda": moneda}

    async def attempt() -> dict[str, Any] | None:
        r = await http.post("/cuentas", json=body)
        if r.status_code == 404:
            return None
        assert r.status_code == 201, r.text
        cuenta: dict[str, Any] = r.json()
        return cuenta

    return await eventually(attempt, timeout=30, interval=0.2, what=f"cliente {cliente_id} in the replica")


@pytest.fixture
async def cliente(producer: AIOKafkaProducer) -> int:
    """A fresh activo cliente, announced on bank.clientes.v1 (the replica picks it up asynchronously)."""
    cliente_id = nuevo_cliente_id()
    await publicar_cliente(producer, cliente_id)
    return cliente_id


@pytest.fixture
async def cuenta_factory(http: httpx.AsyncClient, cliente: int) -> Callable[..., Any]:
    async def factory(saldo: str = "0.00", moneda: str = "PEN", tipo: int = 1) -> dict[str, Any]:
        return await abrir_cuenta(http, cliente, saldo=saldo, moneda=moneda, tipo=tipo)

    return factory


async def saldo_y_ledger(db: aiomysql.Pool, cuenta_id: int) -> tuple[Decimal, Decimal, int]:
    """(saldo, Σ CREDITO − Σ DEBITO, number of movimientos) straight from MariaDB."""
    async with db.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT saldo FROM cuentas WHERE cuenta_id = %s", (cuenta_id,))
        (saldo,) = await cur.fetchone()
        await cur.execute(
            "SELECT COALESCE(SUM(CASE operacion WHEN 'CREDITO' THEN monto ELSE -monto END), 0), COUNT(*) "
            "FROM movimientos WHERE cuenta_id = %s",
            (cuenta_id,),
        )
        total, count = await cur.fetchone()
    return saldo, Decimal(total), int(count)


class Tap:
    """Everything published to some topics after `open()`; records are (key, headers, data)."""

    def __init__(self, *topic_names: str) -> None:
        self.topics = topic_names
        self.records: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=KAFKA, group_id=None, enable_auto_commit=False, isolation_level="read_committed"
        )
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> "Tap":
        await self._consumer.start()
        # Partition counts as `bank topics create` made them (contracts.topics).
        counts = {t: topics.PARTITIONS.get(t, topics.DLQ_PARTITIONS) for t in self.topics}
        partitions = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the end offsets now, before the test acts
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._pump())
        return self

    async def _pump(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for r in records:
                    headers = {k: v.decode(errors="replace") for k, v in r.headers}
                    try:
                        data = json.loads(r.value or b"null")
                    except ValueError:
                        data = None
                    self.records.append(((r.key or b"").decode(), headers, data if isinstance(data, dict) else {}))

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    def events(self, ce_type: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Payloads of the given type whose fields equal `fields` (e.g. cuenta_id=5)."""
        out = []
        for _, headers, data in self.records:
            if ce_type and headers.get("ce_type") != ce_type:
                continue
            if all(data.get(k) == v for k, v in fields.items()):
                out.append(data)
        return out

    async def wait_for(
        self, ce_type: str | None = None, *, count: int = 1, timeout: float = 30, **fields: Any
    ) -> list[dict[str, Any]]:
        async def probe() -> list[dict[str, Any]] | None:
            found = self.events(ce_type, **fields)
            return found if len(found) >= count else None

        return await eventually(probe, timeout=timeout, what=f"{count}× {ce_type} {fields}")


@pytest.fixture
async def cuentas_tap() -> AsyncIterator[Tap]:
    tap = await Tap(topics.CUENTAS).open()
    yield tap
    await tap.close()
