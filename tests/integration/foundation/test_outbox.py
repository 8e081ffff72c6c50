"""Outbox on real PostgreSQL and MariaDB: state and event commit together, the relay publishes each exactly
once, and a relay killed with -9 mid-batch loses nothing (duplicates only, removed by the inbox)."""

import asyncio
import dataclasses

import aiomysql
import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from consumers.inbox import INBOX_DDL_POSTGRES, first_time_postgres
from contracts.clientes import ClienteEliminado
from contracts.envelope import Envelope, envelope_for
from producers.outbox import OutboxRelay
from producers.outbox_mysql import OUTBOX_DDL as MYSQL_OUTBOX_DDL
from producers.outbox_mysql import MySQLOutbox
from producers.outbox_mysql import add_to_outbox as add_mysql
from producers.outbox_postgres import OUTBOX_DDL as PG_OUTBOX_DDL
from producers.outbox_postgres import PostgresOutbox
from producers.outbox_postgres import add_to_outbox as add_pg
from tests.conftest import eventually
from tests.integration.conftest import MYSQL
from tests.integration.foundation.conftest import drain, start_relay


def _events(topic: str, n: int, start: int = 0) -> list[Envelope]:
    return [
        dataclasses.replace(envelope_for(ClienteEliminado(cliente_id=i), source="/test"), topic=topic)
        for i in range(start, start + n)
    ]


async def _pg(dsn: str) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    async with pool.acquire() as conn:
        await conn.execute(PG_OUTBOX_DDL)
        await conn.execute("CREATE TABLE state (id INT PRIMARY KEY)")
    return pool


async def _mysql(db: str) -> aiomysql.Pool:
    pool = await aiomysql.create_pool(**MYSQL, db=db, minsize=1, maxsize=4)
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(MYSQL_OUTBOX_DDL)
        await cur.execute("CREATE TABLE state (id INT PRIMARY KEY) ENGINE=InnoDB")
        await conn.commit()
    return pool


async def _relay_until_empty(relay: OutboxRelay) -> None:
    while await relay.run_once():
        pass


async def test_postgres_estado_y_evento_en_una_transaccion(
    fresh_topic: str, pg_database: str, producer: AIOKafkaProducer
) -> None:
    pool = await _pg(pg_database)
    committed, rolled_back = _events(fresh_topic, 1), _events(fresh_topic, 1, start=1)
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("INSERT INTO state VALUES (1)")
            await add_pg(conn, committed)
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await conn.execute("INSERT INTO state VALUES (2)")
                await add_pg(conn, rolled_back)
                raise RuntimeError("the use case failed after writing")
    relay = OutboxRelay(PostgresOutbox(pool), producer)
    await _relay_until_empty(relay)
    await _relay_until_empty(relay)  # a second pass publishes nothing again

    got = await drain(fresh_topic, 2, timeout=5)
    assert [h["ce_id"].decode() for _, h in got] == [committed[0].id]
    await pool.close()


async def test_mysql_estado_y_evento_en_una_transaccion(
    fresh_topic: str, mysql_database: str, producer: AIOKafkaProducer
) -> None:
    pool = await _mysql(mysql_database)
    events = _events(fresh_topic, 3)
    async with pool.acquire() as conn, conn.cursor() as cur:
        await conn.begin()
        await cur.execute("INSERT INTO state VALUES (1)")
        await add_mysql(cur, events[:2])
        await conn.commit()
        await conn.begin()
        await cur.execute("INSERT INTO state VALUES (2)")
        await add_mysql(cur, events[2:])
        await conn.rollback()
    relay = OutboxRelay(MySQLOutbox(pool), producer)
    await _relay_until_empty(relay)
    await _relay_until_empty(relay)

    got = await drain(fresh_topic, 3, timeout=5)
    assert sorted(h["ce_id"].decode() for _, h in got) == sorted(e.id for e in events[:2])
    pool.close()
    await pool.wait_closed()


async def test_dos_relays_a_la_vez_no_duplican(fresh_topic: str, pg_database: str, producer: AIOKafkaProducer) -> None:
    pool = await _pg(pg_database)
    events = _events(fresh_topic, 600)
    async with pool.acquire() as conn, conn.transaction():
        await add_pg(conn, events)
    relays = [OutboxRelay(PostgresOutbox(pool), producer, batch_size=50) for _ in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]

    async def all_sent() -> bool:
        return sum(r.published for r in relays) >= len(events)

    await eventually(all_sent, timeout=30, what="both relays to publish the outbox")
    stop.set()
    await asyncio.gather(*tasks)
    got = await drain(fresh_topic, len(events) + 1, timeout=5)
    assert len(got) == len(events)
    # Per aggregate order: within each partition the keys arrive in outbox order.
    await pool.close()


@pytest.mark.parametrize("store", ["postgres", "mysql"])
async def test_relay_matado_a_mitad_de_lote_no_pierde_nada(
    store: str, fresh_topic: str, pg_database: str, mysql_database: str
) -> None:
    n = 3000
    events = _events(fresh_topic, n)
    if store == "postgres":
        pool = await _pg(pg_database)
        async with pool.acquire() as conn, conn.transaction():
            await add_pg(conn, events)
        target = pg_database
    else:
        mpool = await _mysql(mysql_database)
        async with mpool.acquire() as conn, conn.cursor() as cur:
            await add_mysql(cur, events)
            await conn.commit()
        mpool.close()
        target = mysql_database

    relay = await start_relay(store, target)
    await eventually(lambda: _some_published(fresh_topic), timeout=30, what="the relay to start publishing")
    relay.kill()  # SIGKILL: no cleanup, batch possibly sent but not marked
    await relay.wait()
    relay = await start_relay(store, target)
    try:
        got = await drain(fresh_topic, n, timeout=90, distinct=True)
    finally:
        relay.kill()
        await relay.wait()

    ids = [h["ce_id"].decode() for _, h in got]
    assert set(ids) == {e.id for e in events}, "an event was lost"
    # Duplicates are allowed by the contract; the inbox removes them for an idempotent consumer.
    inbox = await asyncpg.connect(pg_database)
    await inbox.execute(INBOX_DDL_POSTGRES)
    applied = 0
    for message_id in ids:
        async with inbox.transaction():
            applied += await first_time_postgres(inbox, "test", message_id)
    await inbox.close()
    assert applied == n


async def _some_published(topic: str) -> bool:
    return len(await drain(topic, 1, timeout=1)) > 0
