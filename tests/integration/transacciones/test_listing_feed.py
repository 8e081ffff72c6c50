"""The listing feed's tail on the real Kafka (a scratch topic): `caught_up` returns once every event in the topic at
the call is in the index, although the tail's fetches wait for more bytes (listing_feed.FETCH_WAIT_MS); after a
wait that ran out, lists do not wait again until the tail reads something."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from bson import ObjectId

from contracts.envelope import envelope_for
from services.platform.kafka_link import KafkaLink
from services.transacciones.listing import Listado
from services.transacciones.listing_feed import ListingFeed
from services.transacciones.repository import Filtro
from tests.conftest import eventually
from tests.integration.conftest import KAFKA
from tests.transaccion_eventos import transferencia


@pytest.fixture
async def topic() -> AsyncIterator[str]:
    name = f"test.listing.{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(name, 3, 1)])
    try:
        yield name
    finally:
        await admin.delete_topics([name])
        await admin.close()


@contextlib.asynccontextmanager
async def cola(feed: ListingFeed, topic: str) -> AsyncIterator[AIOKafkaProducer]:
    """`feed`'s tail running on `topic` (placed at its end), and a producer to write there."""
    stop = asyncio.Event()
    async with KafkaLink(KAFKA, client_id="test-listing") as link:
        tail = asyncio.ensure_future(feed.loop(link, KAFKA, "test", topic=topic)(stop))
        try:
            await feed.wait_placed()
            yield await link.producer()
        finally:
            stop.set()
            await tail


async def test_caught_up_espera_a_que_el_indice_tenga_todo_lo_que_el_topico_tiene(topic: str) -> None:
    listado = Listado()
    feed = ListingFeed(listado)
    assert not await feed.caught_up(), "no tail running yet"
    async with cola(feed, topic) as producer:
        for _ in range(5):
            ids = [ObjectId() for _ in range(20)]
            for oid in ids:
                env = envelope_for(transferencia(oid, datetime.now(UTC)), source="/transacciones")
                await producer.send(topic, env.value(), key=str(oid).encode(), headers=env.headers())
            await producer.flush()
            started = time.monotonic()
            assert await feed.caught_up()
            waited = time.monotonic() - started
            listed, _ = listado.page(Filtro(estado="PENDIENTE"), 0, 1000)
            assert set(ids) <= set(listed), f"caught up after {waited:.3f} s without every event"
    assert not await feed.caught_up(), "the tail stopped"
    assert not await feed.caught_up(), "the tail stopped"


async def test_una_espera_agotada_no_hace_esperar_a_las_listas_hasta_que_la_cola_lea_de_nuevo(topic: str) -> None:
    """Kafka slow or away: one list waits CATCH_UP_SECONDS, the next ones answer at once (no saga ends meanwhile
    anyway) until the tail reads something again."""
    feed = ListingFeed(Listado())
    async with cola(feed, topic) as producer:
        env = envelope_for(transferencia(ObjectId(), datetime.now(UTC)), source="/transacciones")
        await producer.send_and_wait(topic, env.value(), headers=env.headers())
        assert not await feed.caught_up(timeout=0.001), "the tail's fetch waits longer than that"
        started = time.monotonic()
        assert not await feed.caught_up()
        assert time.monotonic() - started < 0.05, "a list waits again before the tail read anything"

        async def waits_again() -> bool:
            return await feed.caught_up()

        await eventually(waits_again, timeout=10, interval=0.05, what="the tail read the event")
