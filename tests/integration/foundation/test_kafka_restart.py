"""Kafka killed (-9) and restarted while a relay is publishing: every event still arrives."""

import asyncio
import dataclasses

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from contracts.clientes import ClienteEliminado
from contracts.envelope import envelope_for
from producers.outbox import OutboxRelay
from producers.outbox_postgres import OUTBOX_DDL, PostgresOutbox, add_to_outbox
from tests.conftest import eventually
from tests.integration import stack
from tests.integration.foundation.conftest import drain


@pytest.mark.slow
async def test_kafka_reiniciado_durante_la_publicacion_no_pierde_eventos(
    fresh_topic: str, pg_database: str, producer: AIOKafkaProducer
) -> None:
    n = 3000
    events = [
        dataclasses.replace(envelope_for(ClienteEliminado(cliente_id=i), source="/t"), topic=fresh_topic)
        for i in range(n)
    ]
    pool = await asyncpg.create_pool(pg_database, min_size=1, max_size=2)
    async with pool.acquire() as conn:
        await conn.execute(OUTBOX_DDL)
        async with conn.transaction():
            await add_to_outbox(conn, events)
    relay = OutboxRelay(PostgresOutbox(pool), producer, batch_size=50, error_sleep=0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))

    async def started() -> bool:
        return relay.published > 0

    await eventually(started, timeout=30, what="the relay to publish a first batch")
    killed = stack.kill9("kafka")

    async def all_marked() -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0)

    try:
        await eventually(
            all_marked, timeout=150, interval=0.5, what="the relay to publish everything after the restart"
        )
    finally:
        stop.set()
        await task
        await pool.close()
    assert stack.pid("kafka") not in (0, killed), "supervisor restarted Kafka"
    got = await drain(fresh_topic, n, timeout=60, distinct=True)
    assert {h["ce_id"].decode() for _, h in got} == {e.id for e in events}
