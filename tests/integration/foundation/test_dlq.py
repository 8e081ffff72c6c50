"""A poison message goes to the DLQ (error in headers) and the partition moves on."""

import asyncio
import dataclasses

from aiokafka import AIOKafkaProducer

from consumers.errors import PermanentError
from consumers.handler import Delivery
from consumers.runner import ConsumerLoop, make_consumer
from contracts.clientes import ClienteEliminado
from contracts.envelope import Envelope, envelope_for
from tests.conftest import eventually
from tests.integration.conftest import KAFKA
from tests.integration.foundation.conftest import drain
from tests.unit.foundation.handlers import FunctionHandler


async def test_mensaje_venenoso_va_al_dlq_y_la_particion_sigue(
    fresh_topic: str, producer: AIOKafkaProducer, unique: str
) -> None:
    def env(i: int) -> Envelope:
        return dataclasses.replace(envelope_for(ClienteEliminado(cliente_id=i), source="/t"), topic=fresh_topic)

    good = [env(1), env(2)]
    # Same key, so all three share a partition: the poison sits between two good messages.
    await producer.send_and_wait(fresh_topic, good[0].value(), key=b"k", headers=good[0].headers())
    await producer.send_and_wait(fresh_topic, b"not json at all", key=b"k", headers=[("ce_type", b"?")])
    await producer.send_and_wait(fresh_topic, good[1].value(), key=b"k", headers=good[1].headers())
    bad_payload = env(3)
    await producer.send_and_wait(fresh_topic, bad_payload.value(), key=b"k", headers=bad_payload.headers())

    applied: list[int] = []

    async def handler(d: Delivery) -> None:
        event = d.envelope.decode()
        assert isinstance(event, ClienteEliminado)
        if event.cliente_id == 3:
            raise PermanentError("cliente 3 can never be applied")
        applied.append(event.cliente_id)

    consumer = make_consumer(KAFKA, f"test-{unique}", [fresh_topic])
    await consumer.start()
    stop = asyncio.Event()
    loop = ConsumerLoop(consumer, producer, group_id=f"test-{unique}", handler=FunctionHandler(handler))
    task = asyncio.create_task(loop.run(stop))

    async def done() -> bool:
        return loop.dead_lettered == 2 and applied == [1, 2]

    await eventually(done, timeout=30, what="two good messages applied and two dead-lettered")
    stop.set()
    await task
    await consumer.stop()

    dead = await drain(f"{fresh_topic}.dlq", 2, timeout=10)
    assert [h["dlq_error_type"] for _, h in dead] == [b"EnvelopeError", b"PermanentError"]
    assert all(h["dlq_original_topic"] == fresh_topic.encode() for _, h in dead)
