"""A Kafka consumer loop that commits only after the effect, retries what may heal, and dead-letters
what never will, so one bad message never blocks its partition."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from consumers import tracing
from consumers.dlq import dead_letter
from consumers.errors import is_infrastructure, is_permanent
from consumers.handler import Delivery, Handler
from contracts.envelope import from_record

log = logging.getLogger(__name__)

# A bulk reader's fetch waits for this many bytes (a few hundred events) or this long, whichever comes first: at the
# saga's rate every record used to cost the broker and each projection a fetch round of its own (measured: Kafka was
# the second largest CPU user per transfer), while a projection being 250 ms behind is invisible to its readers.
BULK_FETCH_BYTES = 256 * 1024
BULK_FETCH_WAIT_MS = 250
COMMIT_INTERVAL = 0.5  # seconds: how long handled offsets may wait to be committed with later ones (see run)


def make_consumer(
    bootstrap_servers: str,
    group_id: str | None,
    topics: Sequence[str],
    *,
    from_beginning: bool = True,
    max_poll_records: int = 500,
    bulk: bool = False,
) -> AIOKafkaConsumer:
    """Manual commits (we commit after the effect); read_committed ignores aborted producer writes. `bulk` is for
    readers off the money path (projections, the lake): the broker holds each fetch until BULK_FETCH_BYTES are there
    or BULK_FETCH_WAIT_MS passed, so under load they get a few big batches instead of one fetch per new record."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        isolation_level="read_committed",
        max_poll_records=max_poll_records,
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
        metadata_max_age_ms=5000,
        **({"fetch_min_bytes": BULK_FETCH_BYTES, "fetch_max_wait_ms": BULK_FETCH_WAIT_MS} if bulk else {}),
    )


Decoded = tuple[ConsumerRecord[bytes, bytes], Delivery | Exception]
"""A polled record with its delivery, or why it is not one of our events."""


def _decode(record: ConsumerRecord[bytes, bytes]) -> Delivery | Exception:
    try:
        env = from_record(record.topic, record.value, list(record.headers))
    except Exception as exc:
        return exc
    return Delivery(env, record.topic, record.partition, record.offset)


class ConsumerLoop:
    """Runs `handler` over the records of `consumer` (`handle_batch` for a partition's batch, falling back to
    `handle` one by one when the batch fails), then commits what was handled."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        *,
        group_id: str,
        handler: Handler,
        max_attempts: int = 5,
        retry_backoff: float = 0.5,
        max_backoff: float = 5.0,
        parallel_partitions: bool = False,
        whole_poll: bool = False,
        commit_interval: float = COMMIT_INTERVAL,
    ) -> None:
        self._consumer = consumer
        # True: a poll's records of all its partitions go to handle_batch together first (each partition's in its
        # order), partition by partition only when that fails. For handlers whose batch is one database transaction
        # (cuentas' commands): one commit and one set of round trips per poll instead of one per partition.
        self._whole_poll = whole_poll
        self._commit_interval = commit_interval
        # True: the partitions of one poll are handled at the same time (each in its own order). Only for
        # handlers whose effects on different partitions never contend, e.g. ones that go through one writer.
        self._parallel = parallel_partitions
        self._producer = producer
        self._group = group_id
        self._handler = handler
        self._max_attempts = max_attempts
        self._backoff = retry_backoff
        self._max_backoff = max_backoff
        self.handled = 0
        self.dead_lettered = 0

    async def run(self, stop: asyncio.Event) -> None:
        pending: dict[TopicPartition, int] = {}  # handled, not yet committed
        committed_at = time.monotonic()
        try:
            while not stop.is_set():
                batches = await self._consumer.getmany(timeout_ms=200)
                outcomes = await self._process_poll(batches, stop)
                pending |= {tp: o for tp, o in outcomes.items() if isinstance(o, int)}
                failure = next((o for o in outcomes.values() if isinstance(o, BaseException)), None)
                # A commit is a round trip that holds up the next poll and a write to __consumer_offsets: under
                # load one per poll was ~8% of a saga service's CPU and a good part of the broker's. So the offsets
                # of several polls go in one commit, at most `commit_interval` after the first, and at once when a
                # poll finds nothing (idle: the group's lag reads 0) or a partition failed. Never before the effect;
                # a crash re-delivers at most that interval's records, which every handler applies idempotently.
                due = not batches or failure is not None or time.monotonic() - committed_at >= self._commit_interval
                if pending and due:
                    await self._commit(pending)
                if due:
                    committed_at = time.monotonic()
                if failure is not None:
                    raise failure  # after committing the partitions that were handled
        finally:
            if pending:
                with contextlib.suppress(Exception):  # stopping: what is not committed is re-delivered, harmlessly
                    await self._commit(pending)

    async def _commit(self, pending: dict[TopicPartition, int]) -> None:
        """Commit (and forget) the pending offsets of the partitions still assigned to this consumer: a partition a
        rebalance took away is its new owner's to commit (it re-reads from the last commit)."""
        assigned = self._consumer.assignment()
        offsets = {tp: offset for tp, offset in pending.items() if tp in assigned}
        pending.clear()
        if offsets:
            await self._consumer.commit(offsets)

    async def _process_poll(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]], stop: asyncio.Event
    ) -> dict[TopicPartition, int | BaseException | None]:
        """Each partition's outcome: the offset to commit, None (nothing handled) or what it failed with."""
        # Decoded once: the whole-poll batch and, when it fails, the partition path read the same deliveries.
        decoded = {tp: [(record, _decode(record)) for record in records] for tp, records in batches.items()}
        if self._whole_poll and len(batches) > 1:
            whole = await self._try_whole(decoded)
            if whole is not None:
                return whole
        if self._parallel:
            results = await asyncio.gather(
                *(self._process_partition(read, stop) for read in decoded.values()),
                return_exceptions=True,
            )
            return dict(zip(decoded, results, strict=True))
        outcomes: dict[TopicPartition, int | BaseException | None] = {}
        for tp, read in decoded.items():
            try:
                outcomes[tp] = await self._process_partition(read, stop)
            except Exception as exc:
                outcomes[tp] = exc
                break
            if stop.is_set():
                break
        return outcomes

    async def _process_partition(self, read: list[Decoded], stop: asyncio.Event) -> int | None:
        """Handle a partition's records; the offset to commit for it (None: nothing handled)."""
        pairs: list[tuple[Delivery, ConsumerRecord[bytes, bytes]]] = []
        for record, delivery in read:
            if isinstance(delivery, Delivery):
                pairs.append((delivery, record))
            else:  # not one of our CloudEvents: nothing will ever parse it
                await self._dead_letter(record, delivery)
        if pairs and not await self._try_batch([d for d, _ in pairs]):
            for delivery, record in pairs:
                if not await self._handle_one(delivery, record, stop):
                    # stopping mid-partition: commit nothing past what was handled
                    return delivery.offset if delivery.offset > read[0][0].offset else None
        return int(read[-1][0].offset) + 1

    async def _try_whole(
        self, decoded: dict[TopicPartition, list[Decoded]]
    ) -> dict[TopicPartition, int | BaseException | None] | None:
        """All the poll's partitions as one batch: the offsets to commit, or None when a record is not one of our
        events (the partition path dead-letters it) or the batch failed (that path retries and isolates)."""
        deliveries = [d for read in decoded.values() for _, d in read if isinstance(d, Delivery)]
        if len(deliveries) < sum(map(len, decoded.values())) or not await self._try_batch(deliveries):
            return None
        return {tp: int(read[-1][0].offset) + 1 for tp, read in decoded.items() if read}

    async def _try_batch(self, deliveries: list[Delivery]) -> bool:
        if len(deliveries) == 1:
            return False
        try:
            with tracing.handling(deliveries, self._group):
                await self._handler.handle_batch(deliveries)
        except Exception as exc:
            log.info("batch of %d failed (%s); handling one by one", len(deliveries), exc)
            return False
        self.handled += len(deliveries)
        return True

    async def _handle_one(self, delivery: Delivery, record: ConsumerRecord[bytes, bytes], stop: asyncio.Event) -> bool:
        attempt = 0
        while True:
            attempt += 1
            try:
                with tracing.handling([delivery], self._group):
                    await self._handler.handle(delivery)
                self.handled += 1
                return True
            except Exception as exc:
                if is_permanent(exc) or (not is_infrastructure(exc) and attempt >= self._max_attempts):
                    await self._dead_letter(record, exc)
                    return True
                log.warning(
                    "%s@%d:%d attempt %d failed: %r", record.topic, record.partition, record.offset, attempt, exc
                )
                await asyncio.sleep(min(self._max_backoff, self._backoff * attempt))
                if stop.is_set():
                    return False

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], exc: BaseException) -> None:
        await dead_letter(self._producer, record, exc, group=self._group)
        self.dead_lettered += 1
