"""ReplicaCatchUp (replica_lag.py) against the real Kafka: a scratch topic and a scratch group whose committed
offsets the test sets by hand. A miss is final once settled when the group has nothing pending, waits while it is
behind, ends when the group catches up, never outlasts its bound, and stands as a miss when Kafka does not answer."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from producers.kafka import make_producer
from services.transacciones.replica_lag import ReplicaCatchUp
from tests.integration.conftest import KAFKA
from tests.integration.lake.kafka_helpers import create_topics, delete_topics

RECORDS = 3
SETTLE = 0.1


@pytest.fixture
async def topic() -> AsyncIterator[str]:
    """A one-partition topic holding RECORDS records (end offset RECORDS)."""
    name = f"test.replica-lag.{uuid.uuid4().hex[:8]}"
    await create_topics([name], partitions=1)
    producer = make_producer(KAFKA, client_id="replica-lag-test")
    await producer.start()
    try:
        for n in range(RECORDS):
            await producer.send_and_wait(name, f"opening {n}".encode(), key=b"k")
    finally:
        await producer.stop()
    yield name
    await delete_topics([name])


async def commit(group: str, topic: str, offset: int) -> None:
    """The group's committed offset of partition 0, as a consumer of it would leave it (no group join)."""
    tp = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: offset})
    finally:
        await consumer.stop()


class Lookups:
    """A replica lookup that finds `found` once `after` seconds have passed (never, by default)."""

    def __init__(self, after: float | None = None, found: str = "row") -> None:
        self.started = time.monotonic()
        self.after = after
        self.found = found
        self.calls = 0

    async def __call__(self) -> str | None:
        self.calls += 1
        ready = self.after is not None and time.monotonic() - self.started >= self.after
        return self.found if ready else None


async def test_sin_nada_pendiente_un_fallo_es_definitivo_al_asentarse(topic: str) -> None:
    group = f"test-group-{uuid.uuid4().hex[:8]}"
    await commit(group, topic, RECORDS)
    async with aclosing(ReplicaCatchUp(KAFKA, group, topic, limit=5, settle=SETTLE)) as catch_up:
        await catch_up.retry(Lookups())  # connects
        lookups = Lookups()
        assert await catch_up.retry(lookups) is None
        assert SETTLE <= time.monotonic() - lookups.started < SETTLE + 1.0
        assert lookups.calls <= 4  # a look every 50 ms until settled, then the last one


async def test_mientras_el_grupo_va_atrasado_espera_lo_que_aparece(topic: str) -> None:
    group = f"test-group-{uuid.uuid4().hex[:8]}"
    await commit(group, topic, 1)  # two openings not folded yet
    async with aclosing(ReplicaCatchUp(KAFKA, group, topic, limit=5, settle=SETTLE)) as catch_up:
        lookups = Lookups(after=0.4)
        assert await catch_up.retry(lookups) == "row"
        assert time.monotonic() - lookups.started >= 0.4
        assert lookups.calls > 1


async def test_deja_de_esperar_cuando_el_grupo_alcanza_el_final(topic: str) -> None:
    group = f"test-group-{uuid.uuid4().hex[:8]}"
    await commit(group, topic, 0)  # a group that has not committed anything yet counts as behind too

    async def folds_later() -> None:
        await asyncio.sleep(0.5)
        await commit(group, topic, RECORDS)

    async with aclosing(ReplicaCatchUp(KAFKA, group, topic, limit=10, settle=SETTLE)) as catch_up:
        folding = asyncio.create_task(folds_later())
        lookups = Lookups()
        assert await catch_up.retry(lookups) is None
        waited = time.monotonic() - lookups.started
        await folding
    assert 0.5 <= waited < 3.0, waited


async def test_un_grupo_que_no_alcanza_el_final_espera_hasta_el_limite(topic: str) -> None:
    group = f"test-group-{uuid.uuid4().hex[:8]}"  # never committed: behind on every record
    async with aclosing(ReplicaCatchUp(KAFKA, group, topic, limit=0.6, settle=SETTLE)) as catch_up:
        lookups = Lookups()
        assert await catch_up.retry(lookups) is None
        waited = time.monotonic() - lookups.started
    assert 0.4 <= waited < 2.0, waited
    assert lookups.calls > 1


async def test_sin_kafka_el_fallo_queda_como_estaba() -> None:
    async with aclosing(ReplicaCatchUp("127.0.0.1:1", "any-group", "any-topic", limit=1.0, settle=SETTLE)) as catch_up:
        lookups = Lookups()
        assert await catch_up.retry(lookups) is None
        assert time.monotonic() - lookups.started < 3.0


async def test_lo_que_aparece_antes_de_asentarse_no_pregunta_a_kafka() -> None:
    async with aclosing(ReplicaCatchUp("127.0.0.1:1", "any-group", "any-topic", limit=5, settle=1.0)) as catch_up:
        assert await catch_up.retry(Lookups(after=0.1)) == "row"  # Kafka unreachable, never asked
