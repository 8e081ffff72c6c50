"""Fixtures for the foundation tests: fresh topics, fresh databases, a relay subprocess."""

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomysql
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from producers.kafka import make_producer
from tests.integration.conftest import KAFKA, MYSQL
from tests.integration.pg_scratch import scratch_database

RELAY_SCRIPT = Path(__file__).with_name("relay_process.py")


@pytest.fixture
async def fresh_topic() -> AsyncIterator[str]:
    """A new topic with 3 partitions (and its .dlq), deleted afterwards."""
    name = f"test.{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(name, 3, 1), NewTopic(f"{name}.dlq", 1, 1)])
    try:
        yield name
    finally:
        await admin.delete_topics([name, f"{name}.dlq"])
        await admin.close()


@pytest.fixture
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    p = make_producer(KAFKA)
    await p.start()
    yield p
    await p.stop()


async def drain(
    topic: str, expect: int, timeout: float = 60.0, *, distinct: bool = False
) -> list[tuple[bytes | None, dict[str, bytes]]]:
    """Read a topic from the beginning (no group) until `expect` records (with `distinct`, distinct
    ce_id values, so duplicates do not end the wait early) or the deadline."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=KAFKA,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    got: list[tuple[bytes | None, dict[str, bytes]]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def count() -> int:
            return len({h.get("ce_id") for _, h in got}) if distinct else len(got)

        while count() < expect and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            for records in batches.values():
                got += [(r.value, dict(r.headers)) for r in records]
    finally:
        await consumer.stop()
    return got


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database; yields its DSN."""
    async with scratch_database("t_") as dsn:
        yield dsn


@pytest.fixture
async def mysql_database() -> AsyncIterator[str]:
    """A fresh MariaDB database; yields its name."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await aiomysql.connect(**MYSQL, autocommit=True)
    async with conn.cursor() as cur:
        await cur.execute(f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE `{name}`")
        conn.close()


async def start_relay(store: str, target: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(RELAY_SCRIPT),
        store,
        target,
        KAFKA,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
