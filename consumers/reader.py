"""Bounded reads of Kafka (perfil's fold and rebuild, `bank audit`, `bank events export`): a reader that joins no
group, assigned partitions by hand and read from start offsets up to stop offsets, so no group is disturbed."""

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from datetime import datetime
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Offsets = dict[TopicPartition, int]


def make_reader(bootstrap: str, *, client_id: str = "bank-replay", max_poll_records: int = 5000) -> AIOKafkaConsumer:
    """A consumer without a group (nothing is committed to Kafka); read_committed so aborted producer writes
    are never read."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=max_poll_records,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        metadata_max_age_ms=5000,
    )


async def topic_partitions(consumer: AIOKafkaConsumer, *topics: str) -> list[TopicPartition]:
    """Every partition of `topics`, from fresh metadata; raises LookupError while one of them does not exist (yet)."""
    # The one place that reaches into aiokafka's private client, on purpose: no public call answers this. The
    # public topics() returns only names, and partitions_for_topic() reads the client's cache, which a group-less
    # consumer refreshes only for topics it already reads (stale for a topic created meanwhile). The admin
    # client's describe_topics would answer, at the price of a second connection per reader.
    cluster = await consumer._client.fetch_all_metadata()
    out: list[TopicPartition] = []
    for topic in topics:
        parts = cluster.partitions_for_topic(topic)
        if not parts:
            raise LookupError(f"topic {topic} does not exist (yet)")
        out += [TopicPartition(topic, p) for p in sorted(parts)]
    return out


async def offsets_at(consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], when: datetime | None) -> Offsets:
    """The first offset whose record timestamp is >= `when` per partition; the end when there is none,
    the beginning when `when` is None."""
    if when is None:
        begins: Offsets = await consumer.beginning_offsets(list(tps))
        return begins
    ends: Offsets = await consumer.end_offsets(list(tps))
    found = await consumer.offsets_for_times({tp: int(when.timestamp() * 1000) for tp in tps})
    return {tp: found[tp].offset if found.get(tp) is not None else ends[tp] for tp in tps}


async def end_offsets(consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition]) -> Offsets:
    """The high-water mark of each partition: where a read that wants everything so far stops."""
    ends: Offsets = await consumer.end_offsets(list(tps))
    return ends


async def read_batches(
    consumer: AIOKafkaConsumer, starts: Offsets, stops: Offsets, *, max_records: int | None = None
) -> AsyncGenerator[list[Record], None]:
    """The records of each poll from `starts` (inclusive) up to `stops` (exclusive), for partitions already
    assigned to `consumer`. Records fetched beyond a stop are dropped and the partition is rewound to the stop,
    so a later read of the same consumer continues from exactly there."""
    pending: set[TopicPartition] = set()
    for tp, start in starts.items():
        consumer.seek(tp, start)
        if start < stops[tp]:
            pending.add(tp)
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=500, max_records=max_records)
        records = [r for tp, recs in batches.items() for r in recs if r.offset < stops[tp]]
        if records:
            yield records
        for tp in list(pending):
            position = await consumer.position(tp)
            if position >= stops[tp]:
                if position > stops[tp]:
                    consumer.seek(tp, stops[tp])
                pending.discard(tp)


async def read_range(consumer: AIOKafkaConsumer, starts: Offsets, stops: Offsets) -> AsyncIterator[Record]:
    """Every record from `starts` (inclusive) to `stops` (exclusive), each partition in order; assigns exactly
    the partitions of `starts`."""
    consumer.assign(list(starts))
    async with aclosing(read_batches(consumer, starts, stops)) as batches:
        async for records in batches:
            for record in records:
                yield record
