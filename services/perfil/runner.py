"""Feeding Kafka records to the view store: the live projection loop and the bounded fold a rebuild uses.

Neither uses a consumer group: every partition is assigned by hand and positioned from the offsets
stored in the view itself (committed with the fold), so the view, not Kafka, says what was applied,
a restart resumes at once (no rebalance wait), and no group is disturbed by a rebuild. That is why this is not
consumers.runner.ConsumerLoop (which commits to a group); the pieces are the shared ones: the group-less reader
(consumers.reader), the dead-letter shape (consumers.dlq) and the error classes (consumers.errors).
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from consumers import tracing
from consumers.dlq import dead_letter
from consumers.errors import is_infrastructure
from consumers.reader import read_batches, topic_partitions
from consumers.stopping import sleep_unless_stopped
from contracts.envelope import Envelope
from services.perfil.folding import ApplyResult, Record, Rejected, ViewSwitched
from services.perfil.store import ViewStore

log = logging.getLogger(__name__)

OnApplied = Callable[[Sequence[Envelope]], None]
GROUP = "perfil.proyeccion"  # no Kafka group is joined: the name its dead letters carry


async def seek_to_stored(consumer: AIOKafkaConsumer, store: ViewStore, schema: str) -> None:
    stored = await store.offsets(schema)
    for tp in consumer.assignment():
        if tp in stored:
            consumer.seek(tp, stored[tp])
        else:
            await consumer.seek_to_beginning(tp)


def _flatten(batches: dict[TopicPartition, list[Record]]) -> list[Record]:
    return [r for records in batches.values() for r in records]


@dataclass
class ProjectionStatus:
    schema: str | None = None
    behind: int | None = None  # records between the view and the partitions' high-water marks
    last_loop: float = 0.0
    folded: int = 0
    dead_lettered: int = 0
    switches: int = 0
    errors: int = 0
    positions: dict[str, int] = field(default_factory=dict)


class LiveProjection:
    """Folds the domain topics into the active view as they arrive; follows the pointer after a rebuild."""

    def __init__(
        self,
        store: ViewStore,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer | None,
        topics: Sequence[str],
        *,
        max_records: int = 2000,
        on_applied: OnApplied | None = None,
    ) -> None:
        self._store = store
        self._consumer = consumer
        self._producer = producer
        self._topics = topics
        self._max_records = max_records
        self._on_applied = on_applied
        self.status = ProjectionStatus()

    async def run(self, stop: asyncio.Event) -> None:
        schema = await self._store.active_schema()
        while True:
            try:
                assigned = await topic_partitions(self._consumer, *self._topics)
                break
            except LookupError as exc:
                log.warning("perfil projection waiting: %s", exc)
                if await sleep_unless_stopped(stop, 2.0):
                    return
        self._consumer.assign(assigned)
        await seek_to_stored(self._consumer, self._store, schema)
        self.status.schema = schema
        failures = 0
        while not stop.is_set():
            batches = await self._consumer.getmany(timeout_ms=300, max_records=self._max_records)
            records = _flatten(batches)
            try:
                if records:
                    with tracing.receiving(records, "perfil"):
                        result = await self._store.apply(
                            schema, records, check_active=True, dead_letter=self._dead_letter
                        )
                    self._account(result)
                failures = 0
            except ViewSwitched as switched:
                log.info("perfil view switched %s -> %s", schema, switched.schema)
                schema = switched.schema
                self.status.schema = schema
                self.status.switches += 1
                await seek_to_stored(self._consumer, self._store, schema)
                continue
            except Exception as exc:
                # Nothing was committed: go back to what the view has and try again after a pause.
                failures += 1
                self.status.errors += 1
                level = logging.WARNING if is_infrastructure(exc) else logging.ERROR
                log.log(level, "perfil fold failed (attempt %d): %r", failures, exc)
                if await sleep_unless_stopped(stop, min(5.0, 0.5 * failures)):
                    return
                await seek_to_stored(self._consumer, self._store, schema)
                continue
            await self._track_lag()

    def _account(self, result: ApplyResult) -> None:
        self.status.folded += len(result.folded)
        self.status.dead_lettered += len(result.rejected)
        if self._on_applied is not None and result.folded:
            self._on_applied(result.folded)

    async def _track_lag(self) -> None:
        behind = 0
        positions: dict[str, int] = {}
        for tp in self._consumer.assignment():
            position = await self._consumer.position(tp)  # known after a fetch: no broker round trip
            positions[f"{tp.topic}:{tp.partition}"] = position
            high = self._consumer.highwater(tp)
            if high is not None:
                behind += max(0, high - position)
        self.status.behind = behind
        self.status.positions = positions
        self.status.last_loop = time.monotonic()

    async def _dead_letter(self, rejected: Sequence[Rejected]) -> None:
        if self._producer is None:
            return
        for item in rejected:
            await dead_letter(self._producer, item.record, item.error, group=GROUP)


async def fold_until(
    consumer: AIOKafkaConsumer,
    store: ViewStore,
    schema: str,
    stops: dict[TopicPartition, int],
    *,
    max_records: int = 5000,
    on_progress: Callable[[int], Awaitable[None] | None] | None = None,
) -> int:
    """Fold every assigned partition of `stops` up to exactly its stop offset (exclusive); returns records folded.

    Records fetched beyond a stop are dropped and the partition is rewound to the stop, so a later
    call continues from exactly there."""
    stored = await store.offsets(schema)
    starts = {tp: stored.get(tp, 0) for tp in stops}
    done = 0
    async with aclosing(read_batches(consumer, starts, stops, max_records=max_records)) as batches:
        async for records in batches:
            result = await store.apply(schema, records)
            done += len(records)
            for item in result.rejected:
                r = item.record
                log.warning("rebuild skips %s@%d:%d: %r", r.topic, r.partition, r.offset, item.error)
            if on_progress is not None:
                maybe = on_progress(done)
                if maybe is not None:
                    await maybe
    return done
