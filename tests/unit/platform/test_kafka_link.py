"""KafkaLink: a failed start is not cached, so the next caller tries again (the API never needs Kafka to boot), and
its workers wait for the broker before doing anything."""

import asyncio

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from producers.outbox import Publish
from services.platform.kafka_link import KafkaLink


async def test_sin_broker_cada_llamada_reintenta_y_cerrar_no_falla() -> None:
    link = KafkaLink("127.0.0.1:1", client_id="test")  # nothing listens on port 1
    for _ in range(2):
        with pytest.raises(KafkaConnectionError):
            await link.producer()
    await link.close()
    await link.close()  # idempotent


class _NeverRead:
    async def relay_batch(self, limit: int, publish: Publish) -> int:
        raise AssertionError("the relay read the outbox without a broker")


async def test_un_worker_sin_broker_vuelve_sin_ejecutar_su_cuerpo() -> None:
    ran: list[object] = []

    async def body(producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
        ran.append(producer)

    stop = asyncio.Event()
    stop.set()  # no pause before Workers would run it again
    async with KafkaLink("127.0.0.1:1", client_id="test") as link:
        await link.worker("test", body)(stop)
        await link.relay(_NeverRead())(stop)
    assert ran == []
