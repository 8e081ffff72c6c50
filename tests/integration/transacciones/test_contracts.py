"""The storage contracts of transacciones run against the real backends: MongoRepository on FerretDB (a fresh
database per test) and send_rows on Kafka (a fresh topic per test); the unit tests' fakes pass the same tests."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from beanie import init_beanie
from pymongo import AsyncMongoClient

from producers.kafka import make_producer
from producers.outbox import Publish, send_rows
from producers.outbox_row import OutboxRow
from services.transacciones.repository import (
    MongoRepository,
    Repository,
    TransaccionDocument,
    detect_money_bson,
    ensure_indexes,
)
from tests.contract.transacciones import PublishContract, RepositoryContract
from tests.integration.conftest import KAFKA, MONGO_URL


class TestMongoRepository(RepositoryContract):
    @asynccontextmanager
    async def repository(self) -> AsyncIterator[Repository]:
        # As the service connects (services/transacciones/main.py): aware UTC datetimes, its indexes, its money.
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL, tz_aware=True, tzinfo=UTC)
        db = client[f"t_{uuid.uuid4().hex[:10]}"]
        try:
            await init_beanie(database=db, document_models=[TransaccionDocument], skip_indexes=True)
            await ensure_indexes(db)
            yield MongoRepository(db, await detect_money_bson(db))
        finally:
            await client.drop_database(db.name)
            await client.close()


class TestKafkaPublish(PublishContract):
    @asynccontextmanager
    async def broker(self) -> AsyncIterator[tuple[str, Publish]]:
        topic = f"test.{uuid.uuid4().hex[:12]}"
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        await admin.create_topics([NewTopic(topic, 3, 1)])
        producer = make_producer(KAFKA)
        await producer.start()

        async def publish(rows: Sequence[OutboxRow]) -> None:
            await send_rows(producer, rows)

        try:
            yield topic, publish
        finally:
            await producer.stop()
            await admin.delete_topics([topic])
            await admin.close()

    async def read(self, topic: str, count: int) -> list[OutboxRow]:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=KAFKA, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
        )
        await consumer.start()
        rows: list[OutboxRow] = []
        try:
            async with asyncio.timeout(60):
                while len(rows) < count:
                    for records in (await consumer.getmany(timeout_ms=300)).values():
                        for r in records:
                            headers = [(k, v.decode()) for k, v in r.headers]
                            key = r.key.decode() if r.key is not None else ""
                            payload = r.value.decode() if r.value is not None else ""
                            rows.append(OutboxRow(dict(headers)["ce_id"], r.topic, key, headers, payload))
        finally:
            await consumer.stop()
        return rows

    @asynccontextmanager
    async def unavailable(self) -> AsyncIterator[Publish]:
        # auto.create.topics.enable=false: a topic the broker does not have cannot take the rows.
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA, request_timeout_ms=3000)
        await producer.start()

        async def publish(rows: Sequence[OutboxRow]) -> None:
            await send_rows(producer, rows)

        try:
            yield publish
        finally:
            await producer.stop()
