"""Feeding Kafka records to the view store: the live projection loop and the bounded fold a rebuild uses.

Neither uses a consumer group: every partition is assigned by hand and positioned from the offsets
stored in the view itself (committed with the fold), so the view, not Kafka, says what was applied,
a restart resumes at once (no rebalance wait), and no group is disturbed by a rebuild.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from consumers.errors import is_infrastructure
from contracts.envelope import Envelope
from contracts.topics import dlq
from services.perfil.folding import ApplyResult, Record, Rejected, ViewSwitched
from services.perfil.store import ViewStore

log = logging.getLogger(__name__)

OnApplied = Callable[[Sequence[Envelope]], None]


def make_reader(bootstrap: str, *, client_id: str = "perfil", max_poll_records: int = 2000) -> AIOKafkaConsumer:
    """A consumer without a group; read_committed so aborted producer writes are never folded."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=max_poll_records,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        metadata_max_age_ms=5000,
    )


async def partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of `topics`; raises LookupError while one of them does not exist yet."""
    # Fresh metadata of every topic: consumer.topics() returns only names, and partitions_for_topic()
    # reads a cache that a group-less consumer fills only for topics it already has.
    cluster = await consumer._client.fetch_all_metadata()
    out: list[TopicPartition] = []
    for topic in topics:
        parts = cluster.partitions_for_topic(topic)
        if not parts:
            raise LookupError(f"topic {topic} does not exist (yet)")
        out += [TopicPartition(topic, p) for p in sorted(parts)]
    return out


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
                assigned = await partitions(self._consumer, self._topics)
                break
            except LookupError as exc:
                log.warning("perfil projection waiting: %s", exc)
                if await _wait(stop, 2.0):
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
                    result = await self._store.apply(schema, records, check_active=True, dead_letter=self._dead_letter)
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
                if await _wait(stop, min(5.0, 0.5 * failures)):
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
            record = item.record
            log.error("perfil dead-letters %s@%d:%d: %r", record.topic, record.partition, record.offset, item.error)
            headers = [
                *record.headers,
                ("dlq_error", repr(item.error)[:2000].encode()),
                ("dlq_error_type", type(item.error).__name__.encode()),
                ("dlq_original_topic", record.topic.encode()),
                ("dlq_original_partition", str(record.partition).encode()),
                ("dlq_original_offset", str(record.offset).encode()),
                ("dlq_consumer_group", b"perfil.proyeccion"),
            ]
            await self._producer.send_and_wait(dlq(record.topic), record.value, key=record.key, headers=headers)


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep unless stopped; True when stopped."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


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
    pending: set[TopicPartition] = set()
    for tp, stop in stops.items():
        start = stored.get(tp, 0)
        consumer.seek(tp, start)
        if start < stop:
            pending.add(tp)
    done = 0
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=500, max_records=max_records)
        records = [r for tp, recs in batches.items() for r in recs if r.offset < stops[tp]]
        if records:
            result = await store.apply(schema, records)
            done += len(records)
            if result.rejected:
                for item in result.rejected:
                    r = item.record
                    log.warning("rebuild skips %s@%d:%d: %r", r.topic, r.partition, r.offset, item.error)
            if on_progress is not None:
                maybe = on_progress(done)
                if maybe is not None:
                    await maybe
        for tp in list(pending):
            position = await consumer.position(tp)
            if position >= stops[tp]:
                if position > stops[tp]:
                    consumer.seek(tp, stops[tp])
                pending.discard(tp)
    return done
