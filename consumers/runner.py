"""A Kafka consumer loop that commits only after the effect, retries what may heal, and dead-letters
what never will, so one bad message never blocks its partition."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from consumers.errors import is_infrastructure, is_permanent
from contracts.envelope import Envelope, from_record
from contracts.topics import dlq

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One consumed record, parsed, with its position."""

    envelope: Envelope
    topic: str
    partition: int
    offset: int


Handler = Callable[[Delivery], Awaitable[None]]
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]


def make_consumer(
    bootstrap_servers: str,
    group_id: str | None,
    topics: Sequence[str],
    *,
    from_beginning: bool = True,
    max_poll_records: int = 500,
) -> AIOKafkaConsumer:
    """Manual commits (we commit after the effect); read_committed ignores aborted producer writes."""
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
    )


class ConsumerLoop:
    """Runs `handler` (one message) or `batch_handler` (a partition's batch, falling back to one by one
    when the batch fails) over the records of `consumer`, then commits what was handled."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        *,
        group_id: str,
        handler: Handler,
        batch_handler: BatchHandler | None = None,
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
        self._batch_handler = batch_handler
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
        if self._batch_handler is None or len(deliveries) == 1:
            return False
        try:
            await self._batch_handler(deliveries)
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
                await self._handler(delivery)
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
        headers = [
            *record.headers,
            ("dlq_error", repr(exc)[:2000].encode()),
            ("dlq_error_type", type(exc).__name__.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_consumer_group", self._group.encode()),
        ]
        await self._producer.send_and_wait(dlq(record.topic), record.value, key=record.key, headers=headers)
        self.dead_lettered += 1
        log.error("dead-lettered %s@%d:%d: %r", record.topic, record.partition, record.offset, exc)
