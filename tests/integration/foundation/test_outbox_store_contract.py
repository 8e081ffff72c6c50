"""The real outbox stores keep the OutboxStore contract that the unit tests' in-memory fake is held to."""

from collections.abc import AsyncIterator, Sequence

import aiomysql
import asyncpg
import pytest

from contracts.envelope import Envelope
from producers.outbox_mysql import OUTBOX_DDL as MYSQL_OUTBOX_DDL
from producers.outbox_mysql import MySQLOutbox
from producers.outbox_mysql import add_to_outbox as add_mysql
from producers.outbox_postgres import OUTBOX_DDL as PG_OUTBOX_DDL
from producers.outbox_postgres import PostgresOutbox
from producers.outbox_postgres import add_to_outbox as add_pg
from tests.contract.outbox_store import OutboxStoreContract, OutboxUnderTest
from tests.integration.conftest import MYSQL


class TestPostgresOutbox(OutboxStoreContract):
    @pytest.fixture
    async def outbox(self, pg_database: str) -> AsyncIterator[OutboxUnderTest]:
        async with asyncpg.create_pool(pg_database, min_size=2, max_size=2) as pool:
            await pool.execute(PG_OUTBOX_DDL)

            async def write(envelopes: Sequence[Envelope]) -> None:
                async with pool.acquire() as conn, conn.transaction():
                    await add_pg(conn, list(envelopes))

            yield OutboxUnderTest(PostgresOutbox(pool), write)


class TestMySQLOutbox(OutboxStoreContract):
    @pytest.fixture
    async def outbox(self, mysql_database: str) -> AsyncIterator[OutboxUnderTest]:
        pool = await aiomysql.create_pool(**MYSQL, db=mysql_database, minsize=2, maxsize=2, autocommit=True)
        try:
            async with pool.acquire() as conn, conn.cursor() as cur:
                await cur.execute(MYSQL_OUTBOX_DDL)

            async def write(envelopes: Sequence[Envelope]) -> None:
                async with pool.acquire() as conn, conn.cursor() as cur:
                    await conn.begin()
                    await add_mysql(cur, list(envelopes))
                    await conn.commit()

            yield OutboxUnderTest(MySQLOutbox(pool), write)
        finally:
            pool.close()
            await pool.wait_closed()
