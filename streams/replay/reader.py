"""Read ranges of a topic with manual assignment (no group is joined, so no group is disturbed)."""

import re
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Offsets = dict[TopicPartition, int]

_RELATIVE = re.compile(r"^-(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(text: str) -> datetime:
    """ISO 8601 (a naive time is UTC), `now`, or relative to now like -30m, -2h, -7d."""
    text = text.strip()
    if text == "now":
        return datetime.now(UTC)
    relative = _RELATIVE.match(text)
    if relative:
        return datetime.now(UTC) - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def make_reader(bootstrap: str, *, client_id: str = "bank-replay") -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=5000,
        fetch_max_bytes=16 * 1024 * 1024,
        metadata_max_age_ms=5000,
    )


async def topic_partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    # Fresh metadata: consumer.topics() returns only names, partitions_for_topic() reads a stale cache.
    cluster = await consumer._client.fetch_all_metadata()
    parts = cluster.partitions_for_topic(topic)
    if not parts:
        raise LookupError(f"topic {topic} does not exist")
    return [TopicPartition(topic, p) for p in sorted(parts)]


async def offsets_at(consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], when: datetime | None) -> Offsets:
    """The first offset whose record timestamp is >= `when` per partition; the end when there is none,
    the beginning when `when` is None."""
    if when is None:
        begins: Offsets = await consumer.beginning_offsets(list(tps))
        return begins
    ends: Offsets = await consumer.end_offsets(list(tps))
    found = await consumer.offsets_for_times({tp: int(when.timestamp() * 1000) for tp in tps})
    return {tp: found[tp].offset if found.get(tp) is not None else ends[tp] for tp in tps}


async def read_range(consumer: AIOKafkaConsumer, starts: Offsets, stops: Offsets) -> AsyncIterator[Record]:
    """Every record from `starts` (inclusive) to `stops` (exclusive), partition by partition order."""
    consumer.assign(list(starts))
    pending = set()
    for tp, start in starts.items():
        consumer.seek(tp, start)
        if start < stops[tp]:
            pending.add(tp)
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=500)
        for tp, records in batches.items():
            for record in records:
                if record.offset < stops[tp]:
                    yield record
        for tp in list(pending):
            if await consumer.position(tp) >= stops[tp]:
                pending.discard(tp)
