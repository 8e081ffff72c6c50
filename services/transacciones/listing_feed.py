"""Keeps an instance's list index (listing.Listado) current with the transactions the other instances write: a
group-less tail of bank.transacciones.v1 from its end (every instance reads every event; nothing is committed).

The index is filled by a scan at start-up: the tail takes its place at the topic's end first, so whatever is
written after the scan's snapshot arrives as an event (an event the scan already saw changes nothing: estados only
move forward, see Listado.merge).

`caught_up` is read-your-writes for a list that scanned the in-progress collection instead of asking the other
instances: a transaction another instance ended leaves that collection once its events are in the topic, so after
the scan the list waits until this tail has read up to the topic's end as it is then."""

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.producer import AIOKafkaProducer

from consumers.runner import BULK_FETCH_BYTES
from contracts import topics
from contracts.envelope import EnvelopeError, type_and_data
from contracts.transacciones import TransaccionFallida, TransaccionRegistrada, TransaccionSolicitada
from services.platform.kafka_link import KafkaLink
from services.platform.workers import Loop
from services.transacciones.listing import Listado

log = logging.getLogger(__name__)

TYPES = frozenset({TransaccionSolicitada.type, TransaccionRegistrada.type, TransaccionFallida.type})
PLACED_WAIT = 10.0
"""How long the start-up scan waits for the tail to take its place (Kafka away: the scan goes first)."""
FETCH_WAIT_MS = 100
"""The tail's fetch waits this long for BULK_FETCH_BYTES: big fetches under load, and a list that waits for the
tail (`caught_up`) waits about this long at most while Kafka is well."""
CATCH_UP_SECONDS = 3.0
"""How long a list waits for the tail at most (Kafka slow or away: it answers with what the index has). After one
such wait the lists stop waiting until the tail reads something again, so an outage does not make every list slow
(and while Kafka is away no saga ends anyway)."""


class ListingFeed:
    def __init__(self, listado: Listado) -> None:
        self._listado = listado
        self.placed = asyncio.Event()
        self.applied = 0
        self._consumer: AIOKafkaConsumer | None = None  # the tail, while it runs
        self._ends: AIOKafkaConsumer | None = None  # reads the topic's end offsets, while the tail runs
        self._read: dict[TopicPartition, int] = {}  # per partition, the next offset the tail will read
        self._moved = asyncio.Event()  # set (and replaced) each time the tail has applied a fetch
        self._stalled = False  # a wait ran out; cleared when the tail reads something again

    async def caught_up(self, timeout: float = CATCH_UP_SECONDS) -> bool:
        """Wait until every event in the topic now is applied to the index; False when no tail runs or it did not
        get there within `timeout`."""
        consumer, reader = self._consumer, self._ends
        if consumer is None or reader is None or self._stalled:
            return False
        try:
            async with asyncio.timeout(timeout):
                ends = await reader.end_offsets(list(consumer.assignment()))
                while any(self._read.get(tp, -1) < end for tp, end in ends.items()):
                    await self._moved.wait()
        except (TimeoutError, KafkaError) as exc:
            if not self._stalled:
                log.warning("listing feed not caught up within %.1f s (%r): lists stop waiting for it", timeout, exc)
            self._stalled = True
            return False
        return True

    async def _note_positions(self, consumer: AIOKafkaConsumer) -> None:
        """After a fetch is applied: where the tail stands, and wake the lists waiting on it."""
        for tp in consumer.assignment():
            position = await consumer.position(tp)
            if position > self._read.get(tp, position):
                self._stalled = False
            self._read[tp] = position
        self._moved.set()
        self._moved = asyncio.Event()

    async def wait_placed(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.placed.wait(), PLACED_WAIT)

    def apply(self, records: Iterable[ConsumerRecord[Any, Any]]) -> None:
        """Index the transaction events among consumed records. Every instance reads every transaction event here,
        so only each one's type and payload are read, not the whole envelope (the feed was the busiest worker of
        a transacciones process while the seed ran)."""
        for record in records:
            try:
                kind, data = type_and_data(record.value, record.headers)
            except EnvelopeError as exc:  # not one of ours: the consumers that act on this topic report it
                log.debug("listing feed skips %s@%s: %s", record.partition, record.offset, exc)
                continue
            if kind in TYPES:
                self._listado.on_event(data)
                self.applied += 1

    def loop(self, link: KafkaLink, bootstrap: str, instance: str, topic: str = topics.TRANSACCIONES) -> Loop:
        async def body(producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
            consumer = AIOKafkaConsumer(
                topic,
                bootstrap_servers=bootstrap,
                group_id=None,
                client_id=f"{instance}-listing",
                enable_auto_commit=False,
                auto_offset_reset="latest",
                isolation_level="read_committed",
                metadata_max_age_ms=5000,
                # Off the money path: big fetches, not one per event (a list is current anyway: Service.listar asks
                # the other instances, or scans the in-progress documents and waits for this tail).
                fetch_min_bytes=BULK_FETCH_BYTES,
                fetch_max_wait_ms=FETCH_WAIT_MS,
            )
            # Asks where the topic ends, on a connection of its own: the broker answers a connection's requests
            # in order, so on the tail's own one the question would wait behind its parked fetch (measured: a
            # customer's list took ~100 ms instead of ~10 ms on an idle stack).
            ends = AIOKafkaConsumer(
                bootstrap_servers=bootstrap,
                group_id=None,
                client_id=f"{instance}-listing-ends",
                isolation_level="read_committed",
            )
            try:
                await consumer.start()
                await ends.start()
                await self._note_positions(consumer)  # resolves "latest" now, before the scan
                self._consumer, self._ends = consumer, ends
                self.placed.set()
                while not stop.is_set():
                    batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                    for records in batches.values():
                        self.apply(records)
                    await self._note_positions(consumer)
            finally:
                self._consumer = self._ends = None
                await ends.stop()
                await consumer.stop()

        return link.worker("listing-feed", body)
