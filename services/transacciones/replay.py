"""The replies a partition's new owner may have missed, read again from bank.cuentas.v1.

Every instance reads every reply in a group of its own and applies only those of the sagas it owns, so a reply
that arrived while its saga was another instance's (which died, or was fenced, before applying it) was skipped by
the instance that owns the saga now — and cuentas answers a command only once. So on taking a partition over, the
new owner reads the reply topic again, group-less, from shortly before its oldest saga in progress began up to the
end as of now (it already owns the partition, so anything later reaches its own consumer), and applies the replies
of those sagas: a reply a saga is not waiting for decides nothing. Nothing is written in the normal path.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from contracts.envelope import Envelope, from_record

log = logging.getLogger(__name__)

MARGIN = timedelta(seconds=60)
"""Read from this long before the oldest saga began: record timestamps come from cuentas' clock."""
TIMEOUT = 120.0


async def replay(
    bootstrap: str, client_id: str, since: datetime, handle: Callable[[list[Envelope]], Awaitable[None]]
) -> int:
    """Hand every record of bank.cuentas.v1 from `since - MARGIN` to the current end to `handle` (in batches);
    returns how many were read. Raises when Kafka cannot be read (the caller tries again)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        client_id=client_id,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        await consumer.topics()  # metadata, for the partition count
        count = consumer.partitions_for_topic(topics.CUENTAS) or set(range(topics.PARTITIONS[topics.CUENTAS]))
        tps = [TopicPartition(topics.CUENTAS, p) for p in sorted(count)]
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)
        starts = await consumer.offsets_for_times({tp: int((since - MARGIN).timestamp() * 1000) for tp in tps})
        remaining: set[TopicPartition] = set()
        for tp in tps:
            start = starts.get(tp)
            if start is None or start.offset >= end[tp]:
                continue
            consumer.seek(tp, start.offset)
            remaining.add(tp)
        read = 0
        deadline = time.monotonic() + TIMEOUT
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay of {topics.CUENTAS} did not reach its end in {TIMEOUT:.0f}s")
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=2000)
            envelopes = [
                from_record(r.topic, r.value, r.headers)
                for tp, records in batches.items()
                for r in records
                if r.offset < end[tp]
            ]
            read += len(envelopes)
            if envelopes:
                await handle(envelopes)
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return read
    finally:
        await consumer.stop()


async def replay_until_done(
    bootstrap: str, client_id: str, since: datetime, handle: Callable[[list[Envelope]], Awaitable[None]]
) -> int:
    """`replay`, tried again every few seconds while Kafka cannot be read."""
    while True:
        try:
            return await replay(bootstrap, client_id, since, handle)
        except Exception as exc:
            log.warning("replaying replies failed (%r); trying again", exc)
            await asyncio.sleep(2.0)
