"""The process's one Kafka producer, started on first use and again after a failed start, so a service starts and
serves (its writes filling the outbox) while Kafka is away; its workers wait here and run once the broker is back."""

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from producers.kafka import make_producer
from services.platform.health import kafka_probe

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0  # pause of a worker between two attempts to reach the broker


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

    async def _start(self) -> AIOKafkaProducer:
        producer = make_producer(self._bootstrap, client_id=self._client_id)
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        return producer

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
