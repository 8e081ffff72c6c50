"""The process's one Kafka producer, started on first use and again after a failed start, so a service starts and
serves (its writes filling the outbox) while Kafka is away; its workers (outbox relay, consumers) wait here and run
once the broker is back. Every service builds those workers the same way: `relay`, `consumer` or `worker`."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Self

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from consumers.handler import Handler
from consumers.runner import ConsumerLoop, make_consumer
from producers.kafka import make_producer
from producers.outbox import OutboxRelay, OutboxStore
from services.platform import metrics
from services.platform.health import kafka_probe
from services.platform.workers import Loop

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0  # pause of a worker between two attempts to reach the broker

WithProducer = Callable[[AIOKafkaProducer, asyncio.Event], Awaitable[None]]
"""A worker's body once the broker answers: the started producer and the workers' stop event."""


class KafkaLink:
    def __init__(self, bootstrap_servers: str, *, client_id: str) -> None:
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        # The producer is the result of this task; a failed or cancelled task is replaced by the next caller.
        self._starting: asyncio.Task[AIOKafkaProducer] | None = None

    async def producer(self) -> AIOKafkaProducer:
        """The started producer; raises (a Kafka connection error) while no broker answers."""
        task = self._starting
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._starting = asyncio.create_task(self._start(), name=f"{self._client_id}-kafka-start")
            # Retrieve a failure even when every waiter gave up, so it is not reported as "never retrieved".
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
        # Shielded: a caller that gives up (a health check's timeout) does not abort a start others wait on.
        return await asyncio.shield(task)

    async def probe(self) -> None:
        """The /health probe: a broker answers (starting the producer if it is not started yet)."""
        await kafka_probe(await self.producer())

    async def when_up(self, stop: asyncio.Event, who: str) -> AIOKafkaProducer | None:
        """For a worker: the producer, or None after a short stop-aware pause while no broker answers (one log line,
        no traceback; the worker returns and Workers runs it again)."""
        try:
            return await self.producer()
        except (KafkaError, OSError) as exc:  # refused, not yet a cluster, timed out
            log.warning("%s: Kafka unavailable (%s); retrying", who, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=RETRY_SECONDS)
            return None

    def worker(self, who: str, body: WithProducer) -> Loop:
        """A loop for Workers that waits for the broker, then runs `body` with the producer."""

        async def run(stop: asyncio.Event) -> None:
            producer = await self.when_up(stop, who)
            if producer is not None:
                await body(producer, stop)

        return run

    def relay(
        self, outbox: OutboxStore, *, batch_size: int = 500, idle_sleep: float = 0.02, wake: asyncio.Event | None = None
    ) -> Loop:
        """The outbox relay of `outbox` (OutboxRelay's batch size, idle poll and wake-up event)."""

        async def body(producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
            relay = OutboxRelay(outbox, producer, batch_size=batch_size, idle_sleep=idle_sleep, wake=wake)
            await relay.run(stop)

        return self.worker("outbox relay", body)

    def consumer(
        self,
        group: str,
        topics: Sequence[str],
        handler: Handler,
        *,
        max_poll_records: int = 500,
        parallel_partitions: bool = False,
        whole_poll: bool = False,
        bulk: bool = False,
    ) -> Loop:
        """A consumer of `group` over `topics` run by a ConsumerLoop (the link's producer is its dead-letter
        producer). Started inside the worker: its start waits for the group's assignment, which never ends while
        Kafka is down and after a kill -9 waits for the dead member's session to expire."""

        async def body(producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
            consumer = make_consumer(self._bootstrap, group, topics, max_poll_records=max_poll_records, bulk=bulk)
            try:
                await consumer.start()  # a failed start is stopped too (its client would leak), then Workers retries
                loop = ConsumerLoop(
                    consumer,
                    producer,
                    group_id=group,
                    handler=handler,
                    parallel_partitions=parallel_partitions,
                    whole_poll=whole_poll,
                )
                with metrics.watch_consumer(group, consumer):
                    await loop.run(stop)
            finally:
                await consumer.stop()

        return self.worker(group, body)

    async def _start(self) -> AIOKafkaProducer:
        producer = make_producer(self._bootstrap, client_id=self._client_id)
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        return producer

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        task, self._starting = self._starting, None
        if task is None:
            return
        task.cancel()  # no-op when the start is over
        try:
            producer = await task
        except (asyncio.CancelledError, Exception):
            return
        await producer.stop()
