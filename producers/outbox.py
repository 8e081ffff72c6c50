"""Outbox rows and the relay loop shared by every store: claim a batch, publish it, mark it, repeat."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from producers import tracing
from producers.outbox_row import OutboxRow

log = logging.getLogger(__name__)


Publish = Callable[[Sequence[OutboxRow]], Awaitable[None]]


class OutboxStore(Protocol):
    """A store's side of the relay. `relay_batch` claims up to `limit` unpublished rows in its own
    transaction (returning 0 if another relay holds the claim), awaits `publish` on them, and marks them
    published in that same transaction; returns how many it published."""

    async def relay_batch(self, limit: int, publish: Publish) -> int: ...


async def send_rows(producer: AIOKafkaProducer, rows: Sequence[OutboxRow]) -> None:
    """Send rows in order and wait for every acknowledgement; raises if any failed. A traced row is sent under a
    producer span (the hop from the outbox to Kafka), whose context the record carries on."""
    with tracing.sending(rows) as headers:
        futures = [
            await producer.send(
                row.topic, row.payload.encode(), key=row.key.encode(), headers=[(k, v.encode()) for k, v in h]
            )
            for row, h in zip(rows, headers, strict=True)
        ]
        await asyncio.gather(*futures)


class OutboxRelay:
    """Publishes a store's outbox forever. Safe to kill at any point: unmarked rows are sent again
    (at-least-once; consumers dedupe on ce_id). Two relays on one store take turns through the
    store's lock, so per-aggregate order holds."""

    def __init__(
        self,
        store: OutboxStore,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        idle_sleep: float = 0.02,
        error_sleep: float = 1.0,
        wake: asyncio.Event | None = None,
    ) -> None:
        self._store = store
        self._producer = producer
        self._batch_size = batch_size
        self._idle_sleep = idle_sleep
        self._error_sleep = error_sleep
        # Optional nudge: the writers of this process set it after committing events, so the relay can idle
        # long (few polls of the store) and still publish their events at once.
        self._wake = wake
        self.published = 0

    async def _publish(self, rows: Sequence[OutboxRow]) -> None:
        await send_rows(self._producer, rows)

    async def run_once(self) -> int:
        sent = await self._store.relay_batch(self._batch_size, self._publish)
        self.published += sent
        return sent

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            if self._wake is not None:
                self._wake.clear()  # before the claim: a commit during it sets the nudge again
            try:
                sent = await self.run_once()
            except (KafkaError, OSError, ConnectionError) as exc:
                # Broker or database away: nothing was marked, so the batch is retried later.
                log.warning("outbox relay: %s; retrying", exc)
                sent = 0
                await sleep_or_stop(stop, self._error_sleep)
                continue
            if sent < self._batch_size:
                await sleep_or_stop(stop, self._idle_sleep, self._wake)


async def sleep_or_stop(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    """Until `stop` (or `wake`, when given) is set, or `seconds` pass: a background loop's pause."""
    if wake is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        return
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
