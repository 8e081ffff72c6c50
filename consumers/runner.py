"""A Kafka consumer loop that commits only after the effect, retries what may heal, and dead-letters
what never will, so one bad message never blocks its partition."""

import asyncio
import logging
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
    ) -> None:
        self._consumer = consumer
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
        while not stop.is_set():
            batches = await self._consumer.getmany(timeout_ms=200)
            outcomes = await self._process_poll(batches, stop)
            # One commit for every partition of the poll, not one each: a commit is a round trip to the broker
            # that holds up the next poll, and under light, spread traffic a poll brings one record from each of
            # several partitions. Nothing is committed before its effect.
            handled = {tp: o for tp, o in outcomes.items() if isinstance(o, int)}
            if handled:
                await self._consumer.commit(handled)
            failure = next((o for o in outcomes.values() if isinstance(o, BaseException)), None)
            if failure is not None:
                raise failure  # after committing the partitions that were handled

    async def _process_poll(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]], stop: asyncio.Event
    ) -> dict[TopicPartition, int | BaseException | None]:
        """Each partition's outcome: the offset to commit, None (nothing handled) or what it failed with."""
        if self._parallel:
            results = await asyncio.gather(
                *(self._process_partition(tp, records, stop) for tp, records in batches.items()),
                return_exceptions=True,
            )
            return dict(zip(batches, results, strict=True))
        outcomes: dict[TopicPartition, int | BaseException | None] = {}
        for tp, records in batches.items():
            try:
                outcomes[tp] = await self._process_partition(tp, records, stop)
            except Exception as exc:
                outcomes[tp] = exc
                break
            if stop.is_set():
                break
        return outcomes

    async def _process_partition(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]], stop: asyncio.Event
    ) -> int | None:
        """Handle a partition's records; the offset to commit for it (None: nothing handled)."""
        pairs: list[tuple[Delivery, ConsumerRecord[bytes, bytes]]] = []
        for record in records:
            try:
                env = from_record(record.topic, record.value, list(record.headers))
            except Exception as exc:  # not one of our CloudEvents: nothing will ever parse it
                await self._dead_letter(record, exc)
                continue
            pairs.append((Delivery(env, record.topic, record.partition, record.offset), record))
        if pairs and not await self._try_batch([d for d, _ in pairs]):
            for delivery, record in pairs:
                if not await self._handle_one(delivery, record, stop):
                    # stopping mid-partition: commit nothing past what was handled
                    return delivery.offset if delivery.offset > records[0].offset else None
        return int(records[-1].offset) + 1

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
