"""A standalone outbox relay process for the kill -9 tests: `relay_process.py postgres|mysql DSN|DB KAFKA`."""

import asyncio
import sys

import aiomysql
import asyncpg

from producers.kafka import make_producer
from producers.outbox import OutboxRelay, OutboxStore
from producers.outbox_mysql import MySQLOutbox
from producers.outbox_postgres import PostgresOutbox


async def main(store_kind: str, target: str, kafka: str) -> None:
    store: OutboxStore
    if store_kind == "postgres":
        store = PostgresOutbox(await asyncpg.create_pool(target, min_size=1, max_size=2))
    else:
        pool = await aiomysql.create_pool(
            host="127.0.0.1", port=3306, user="bank", password="bank", db=target, minsize=1, maxsize=2
        )
        store = MySQLOutbox(pool)
    producer = make_producer(kafka)
    await producer.start()
    # Small batches make a kill land mid-stream rather than after everything was sent.
    await OutboxRelay(store, producer, batch_size=100).run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
