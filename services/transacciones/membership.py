"""The saga partitions' consumer group (`transacciones.sagas` over bank.transacciones.v1), used only for its
assignment: the consumer is kept paused and reads nothing; its rebalances tell Ownership what this instance holds."""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.producer import AIOKafkaProducer

from contracts import topics
from services.platform.kafka_link import KafkaLink
from services.platform.workers import Loop
from services.transacciones.ownership import GROUP_ID, Ownership

log = logging.getLogger(__name__)

SESSION_TIMEOUT_MS = 10_000  # how long a killed instance's partitions wait before the group gives them away


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, ownership: Ownership, consumer: AIOKafkaConsumer) -> None:
        self._ownership = ownership
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._ownership.revoked({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._consumer.pause(*assigned)
        await self._ownership.assign({tp.partition for tp in assigned})


def membership(link: KafkaLink, bootstrap: str, ownership: Ownership, instance: str) -> Loop:
    """The worker that keeps this instance in the group (and its assignment in `ownership`)."""

    async def body(producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=GROUP_ID,
            client_id=f"{instance}-sagas",
            enable_auto_commit=False,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=1000,
            metadata_max_age_ms=5000,
        )
        consumer.subscribe([topics.TRANSACCIONES], listener=_Listener(ownership, consumer))
        try:
            await consumer.start()
            while not stop.is_set():
                # Paused: nothing is fetched; polling keeps the member alive (max.poll.interval) and lets the
                # rebalance callbacks run.
                await consumer.getmany(timeout_ms=500)
        finally:
            await consumer.stop()  # leaves the group: the partitions move at once instead of after the session

    return link.worker(GROUP_ID, body)
