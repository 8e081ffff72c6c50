"""Keeps an instance's list index (listing.Listado) current with the transactions the other instances write: a
group-less tail of bank.transacciones.v1 from its end (every instance reads every event; nothing is committed).

The index is filled by a scan at start-up: the tail takes its place at the topic's end first, so whatever is
written after the scan's snapshot arrives as an event (an event the scan already saw changes nothing: estados only
move forward, see Listado.merge)."""

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.producer import AIOKafkaProducer

from consumers.runner import BULK_FETCH_BYTES, BULK_FETCH_WAIT_MS
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


class ListingFeed:
    def __init__(self, listado: Listado) -> None:
        self._listado = listado
        self.placed = asyncio.Event()
        self.applied = 0

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

    def loop(self, link: KafkaLink, bootstrap: str, instance: str) -> Loop:
        async def body(producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
            consumer = AIOKafkaConsumer(
                topics.TRANSACCIONES,
                bootstrap_servers=bootstrap,
                group_id=None,
                client_id=f"{instance}-listing",
                enable_auto_commit=False,
                auto_offset_reset="latest",
                isolation_level="read_committed",
                metadata_max_age_ms=5000,
                # Off the money path: big fetches, not one per event (another instance's list is current anyway,
                # Service.listar adds the in-progress documents it scans).
                fetch_min_bytes=BULK_FETCH_BYTES,
                fetch_max_wait_ms=BULK_FETCH_WAIT_MS,
            )
            try:
                await consumer.start()
                for tp in consumer.assignment():
                    await consumer.position(tp)  # resolves "latest" now, before the scan
                self.placed.set()
                while not stop.is_set():
                    batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                    for records in batches.values():
                        self.apply(records)
            finally:
                await consumer.stop()

        return link.worker("listing-feed", body)
