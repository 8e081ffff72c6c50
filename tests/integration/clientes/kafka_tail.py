"""Read what a topic receives from now on: end offsets noted first, then records collected until a deadline."""

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.conftest import KAFKA


@dataclass(frozen=True)
class Record:
    key: bytes | None
    headers: dict[str, str]
    data: dict[str, Any]
    partition: int
    offset: int


async def _partitions(topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert described["error_code"] == 0, f"topic {topic}: {described}"
    return sorted(p["partition"] for p in described["partitions"])


class Tail:
    """A group-less consumer positioned at the topic's end when entered."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.records: list[Record] = []
        self._consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None, enable_auto_commit=False)

    async def __aenter__(self) -> "Tail":
        tps = [TopicPartition(self.topic, p) for p in await _partitions(self.topic)]
        await self._consumer.start()
        try:
            self._consumer.assign(tps)
            for tp, offset in (await self._consumer.end_offsets(tps)).items():
                self._consumer.seek(tp, offset)
        except BaseException:
            await self._consumer.stop()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def _poll(self) -> None:
        batches = await self._consumer.getmany(timeout_ms=200)
        for records in batches.values():
            for r in records:
                headers = {k: v.decode() for k, v in r.headers}
                self.records.append(Record(r.key, headers, json.loads(r.value or b"{}"), r.partition, r.offset))

    async def wait_for(
        self, match: Callable[[Record], bool], *, timeout: float = 20.0, what: str = "a record"
    ) -> Record:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for record in self.records:
                if match(record):
                    return record
            await self._poll()
        raise AssertionError(f"timed out after {timeout}s waiting for {what} on {self.topic}")

    async def drain(self, timeout: float = 20.0) -> None:
        """Read up to the end offsets as they are now (so a duplicate already written would be seen)."""
        tps = list(self._consumer.assignment())
        ends = await self._consumer.end_offsets(tps)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while [tp for tp, end in ends.items() if await self._consumer.position(tp) < end]:
            if loop.time() > deadline:
                raise AssertionError(f"could not read {self.topic} up to {ends} within {timeout}s")
            await self._poll()
