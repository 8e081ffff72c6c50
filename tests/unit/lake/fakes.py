"""Fakes for the sink's boundaries: Kafka records, a consumer, a store that fails on demand."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import TopicPartition

from contracts.envelope import envelope_for
from streams.lake.storage import LocalStore
from tests.lake_events import sample_event

T0 = datetime(2025, 3, 1, 23, 59, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    key: bytes | None = None
    timestamp: int = 1_740_873_540_000


def record(topic: str, partition: int, offset: int, n: int | None = None) -> Record:
    n = offset if n is None else n
    when = T0 + timedelta(minutes=n % 3)  # crosses midnight: two dt partitions
    env = envelope_for(sample_event(n, when), source="/test", event_id=f"ev-{topic}-{partition}-{offset}", time=when)
    return Record(topic, partition, offset, env.value(), tuple(env.headers()))


@dataclass
class FakeConsumer:
    """Serves scripted records per partition from the committed offset on, like a restarted consumer."""

    log: dict[TopicPartition, list[Record]]
    committed_offsets: dict[TopicPartition, int] = field(default_factory=dict)
    chunk: int = 7
    positions: dict[TopicPartition, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for tp in self.log:
            self.positions[tp] = self.committed_offsets.get(tp, 0)

    def assignment(self) -> set[TopicPartition]:
        return set(self.log)

    async def getmany(self, timeout_ms: int = 0) -> dict[TopicPartition, list[Record]]:
        await asyncio.sleep(0)
        out = {}
        for tp, records in self.log.items():
            pending = [r for r in records if r.offset >= self.positions[tp]][: self.chunk]
            if pending:
                out[tp] = pending
                self.positions[tp] = pending[-1].offset + 1
        return out

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed_offsets.update(offsets)

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.committed_offsets.get(tp)

    def drained(self) -> bool:
        return all(self.positions[tp] > records[-1].offset for tp, records in self.log.items())


class FailingStore(LocalStore):
    """A local store that raises on the Nth data-file put (simulating a crash mid-flush)."""

    def __init__(self, root: Any, fail_on_put: int) -> None:
        super().__init__(root)
        self.fail_on_put = fail_on_put
        self.puts = 0

    def put(self, path: str, content: bytes) -> None:
        if not path.startswith("_sink/"):
            self.puts += 1
            if self.puts == self.fail_on_put:
                raise OSError("disk vanished mid-flush")
        super().put(path, content)
