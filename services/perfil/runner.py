"""Feeding Kafka records to the view store: the live projection loop and the bounded fold a rebuild uses.

The live projection is a member of consumer group `perfil.proyeccion`, so N perfil instances share the
partitions, and another instance takes over a dead one's partitions after the session timeout. The group only
assigns partitions: nothing is committed to Kafka. What was applied is said by the offsets stored in the view
itself, committed in the fold's transaction: on assignment an instance seeks to them, and every fold is a
compare-and-set on them (folding.apply, `expected`), so an instance that lost a partition without knowing it yet
(a rebalance under way, a session expired while it was stuck) cannot fold it again or skip a record: the stored
offset it locks is not the one it expects, and it re-seeks instead. This is why it is not
consumers.runner.ConsumerLoop (which commits to the group); a rebuild still reads without a group (consumers.reader),
so no group is disturbed by it. The pieces are the shared ones: consumers.runner.make_consumer, the dead-letter
shape (consumers.dlq) and the error classes (consumers.errors).
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from consumers import tracing
from consumers.dlq import dead_letter
from consumers.errors import is_infrastructure
from consumers.reader import read_batches
from consumers.stopping import sleep_unless_stopped
from contracts.envelope import Envelope
from services.perfil.folding import ApplyResult, Decoded, Record, Rejected, ViewSwitched, decode
from services.perfil.store import ViewStore

log = logging.getLogger(__name__)

OnApplied = Callable[[Sequence[Envelope]], None]
GROUP = "perfil.proyeccion"  # the consumer group of the perfil instances; also the name their dead letters carry


DECODE_SLICE = 100
"""Records decoded between two yields to the event loop (~1 ms), so the fold under way gets its replies promptly."""


@dataclass(frozen=True)
class Fetched:
    """A fetched batch, decoded, with the seek count of each of its partitions when it was fetched: a partition
    sought since (a stale fold, a failure, a new assignment) was moved to another position, and these records of
    it are no longer the ones that follow what the view has."""

    batches: dict[TopicPartition, list[Decoded]]
    seeks: dict[TopicPartition, int]


async def _decoded(batches: dict[TopicPartition, list[Record]]) -> dict[TopicPartition, list[Decoded]]:
    """Every record decoded (folding.decode), yielding every DECODE_SLICE records."""
    out: dict[TopicPartition, list[Decoded]] = {}
    done = 0
    for tp, records in batches.items():
        decoded = out[tp] = []
        for r in records:
            decoded.append(decode(r))
            done += 1
            if done % DECODE_SLICE == 0:
                await asyncio.sleep(0)
    return out


@dataclass
class ProjectionStatus:
    schema: str | None = None
    behind: int | None = None  # records between the view and the high-water marks of this instance's partitions
    last_loop: float = 0.0
    folded: int = 0
    dead_lettered: int = 0
    switches: int = 0
    errors: int = 0
    stale: int = 0  # folds refused (partly) by the compare-and-set on the stored offsets
    positions: dict[str, int] = field(default_factory=dict)


class LiveProjection:
    """Folds the partitions the group gives this instance into the active view; follows the pointer after a
    rebuild. `consumer`: started, with a group id and manual commits (consumers.runner.make_consumer); `run`
    subscribes it to `topics`."""

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
        # The stored offset this instance expects per partition it owns (None: the view has no row for it yet).
        self._expected: dict[TopicPartition, int | None] = {}
        self._seeks: dict[TopicPartition, int] = {}  # how many times each partition was sought (see Fetched)
        self._failures = 0  # folds failed in a row (the pause before the next one grows)
        # A fold and a rebalance callback never interleave: a revocation waits for the fold under way to commit,
        # so the next owner, assigned after every member revoked, seeks to offsets that include it.
        self._lock = asyncio.Lock()
        self._schema: str | None = None
        self.status = ProjectionStatus()

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and decode the next batch while the previous one folds (a task): the decoding, a third of the
        projection's CPU, then overlaps the fold's waits on PostgreSQL instead of adding to them."""
        self._schema = self.status.schema = await self._store.active_schema()
        # A topic that does not exist yet is picked up by the metadata refresh once it does.
        self._consumer.subscribe(topics=list(self._topics), listener=_Rebalance(self))
        folding: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                batches = await self._consumer.getmany(timeout_ms=300, max_records=self._max_records)
                seeks = {tp: self._seeks.get(tp, 0) for tp in batches}  # no await since the fetch
                fetched = Fetched(await _decoded(batches), seeks)
                if folding is not None and not await self._folded(folding, stop):
                    return
                folding = asyncio.create_task(self._fold_fetched(fetched))
        finally:
            if folding is not None:
                await asyncio.wait([folding])  # its transaction ends before the consumer does
                if not folding.cancelled() and folding.exception() is not None:
                    log.warning("perfil: the last fold before stopping failed: %r", folding.exception())

    async def _fold_fetched(self, fetched: Fetched) -> None:
        async with self._lock:
            records = self._owned(fetched)
            await self._position_unseen()
            await self._fold(records)

    async def _folded(self, folding: "asyncio.Task[None]", stop: asyncio.Event) -> bool:
        """Wait for a fold. A failure committed nothing: back to what the view has after a pause (False: stopped
        during the pause)."""
        try:
            await folding
        except Exception as exc:
            self._failures += 1
            self.status.errors += 1
            level = logging.WARNING if is_infrastructure(exc) else logging.ERROR
            log.log(level, "perfil fold failed (attempt %d): %r", self._failures, exc)
            if await sleep_unless_stopped(stop, min(5.0, 0.5 * self._failures)):
                return False
            async with self._lock:
                await self._seek_to_stored(set(self._expected))
            return True
        self._failures = 0
        await self._track_lag()
        return True

    def _owned(self, fetched: Fetched) -> list[Decoded]:
        """Only partitions this instance was assigned (and positioned) by the listener, and not sought since the
        fetch: a fetch may bring records of one being revoked, or of one just assigned before the listener sought
        it; and a batch fetched while the previous one folded may predate that fold's re-seek."""
        return [
            d
            for tp, decoded in fetched.batches.items()
            if tp in self._expected and self._seeks.get(tp, 0) == fetched.seeks[tp]
            for d in decoded
        ]

    async def _position_unseen(self) -> None:
        """Seek the assigned partitions the listener could not position (its database call failed: the consumer only
        logs a listener's error), so none of them is left unfolded. Caller holds the lock."""
        unseen = self._consumer.assignment() - set(self._expected)
        if unseen:
            log.warning("perfil: positioning %d assigned partition(s) the listener did not", len(unseen))
            await self._seek_to_stored(unseen)

    async def _fold(self, records: list[Decoded]) -> None:
        """Caller holds the lock."""
        if not records:
            return
        assert self._schema is not None
        expected = {(tp.topic, tp.partition): offset for tp, offset in self._expected.items()}
        try:
            with tracing.receiving([d.record for d in records], "perfil"):
                result = await self._store.apply(
                    self._schema, records, check_active=True, dead_letter=self._dead_letter, expected=expected
                )
        except ViewSwitched as switched:
            log.info("perfil view switched %s -> %s", self._schema, switched.schema)
            self._schema = self.status.schema = switched.schema
            self.status.switches += 1
            await self._seek_to_stored(set(self._expected))
            return
        for (topic, partition), offset in result.reached.items():
            self._expected[TopicPartition(topic, partition)] = offset
        if result.stale:
            self.status.stale += 1
            log.warning(
                "perfil: stored offsets moved on by another instance, re-seeking: %s",
                ", ".join(f"{t}-{p} at {o}" for (t, p), o in sorted(result.stale.items())),
            )
            await self._seek_to_stored({TopicPartition(t, p) for t, p in result.stale})
        self._account(result)

    async def _seek_to_stored(self, tps: set[TopicPartition]) -> None:
        """Position `tps` (those still assigned) at the view's stored offsets, and expect those. Caller holds the
        lock."""
        assert self._schema is not None
        stored = await self._store.offsets(self._schema)
        assigned = self._consumer.assignment()
        for tp in sorted(tps):
            self._seeks[tp] = self._seeks.get(tp, 0) + 1
            if tp not in assigned:
                self._expected.pop(tp, None)
                continue
            if tp in stored:
                self._consumer.seek(tp, stored[tp])
            else:
                await self._consumer.seek_to_beginning(tp)
            self._expected[tp] = stored.get(tp)

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        async with self._lock:
            if self._schema is None:
                self._schema = self.status.schema = await self._store.active_schema()
            await self._seek_to_stored(assigned)
        log.info("perfil: partitions assigned: %s", ", ".join(f"{tp.topic}-{tp.partition}" for tp in sorted(assigned)))

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:  # waits for a fold under way: its offsets are stored before the next owner seeks
            for tp in revoked:
                self._expected.pop(tp, None)

    def _account(self, result: ApplyResult) -> None:
        self.status.folded += len(result.folded)
        self.status.dead_lettered += len(result.rejected)
        if self._on_applied is not None and result.folded:
            self._on_applied(result.folded)

    async def _track_lag(self) -> None:
        behind = 0
        positions: dict[str, int] = {}
        for tp in self._consumer.assignment():
            try:
                position = await self._consumer.position(tp)  # known after a fetch: no broker round trip
            except Exception:  # revoked meanwhile (a rebalance)
                continue
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


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, projection: LiveProjection) -> None:
        self._projection = projection

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._projection.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._projection.on_assigned(assigned)


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
