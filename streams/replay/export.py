"""Export the events of a topic in a time range as CloudEvents JSON lines (structured mode), for auditors.

The range is on the event time (ce_time). Kafka's offsets_for_times works on record timestamps,
which are never earlier than ce_time (an event is created, then relayed), so the start offset of
`since` misses nothing; the scan stops at the offsets of `until + slack` to cover relay delay."""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from consumers.reader import make_reader, offsets_at, read_range, topic_partitions
from contracts.envelope import EnvelopeError, from_record
from producers.partitioner import partition_for

log = logging.getLogger(__name__)

RELAY_SLACK = timedelta(minutes=5)


@dataclass
class ExportReport:
    scanned: int = 0
    exported: int = 0
    skipped_not_cloudevents: int = 0


async def export_events(
    bootstrap: str,
    topic: str,
    write: Callable[[str], object],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    key: str | None = None,
    sort: bool = True,
) -> ExportReport:
    """Write one JSON object per line for each event of `topic` with since <= ce_time <= until (and
    subject == key when given). Sorted by event time across partitions unless sort=False."""
    report = ExportReport()
    consumer = make_reader(bootstrap, client_id="bank-events-export")
    await consumer.start()
    try:
        tps = await topic_partitions(consumer, topic)
        if key is not None:
            # The key's partition only, as the producers' default partitioner (murmur2, like Java's) put it there.
            tps = [tps[partition_for(key.encode(), len(tps))]]
        starts = await offsets_at(consumer, tps, since)
        ends = await consumer.end_offsets(tps)
        stops = await offsets_at(consumer, tps, until + RELAY_SLACK) if until is not None else ends
        wanted_key = key.encode() if key is not None else None
        buffered: list[tuple[datetime, int, int, str]] = []
        async for record in read_range(consumer, starts, stops):
            report.scanned += 1
            if wanted_key is not None and record.key != wanted_key:
                continue
            try:
                envelope = from_record(record.topic, record.value, list(record.headers))
            except EnvelopeError:
                report.skipped_not_cloudevents += 1
                continue
            if (since is not None and envelope.time < since) or (until is not None and envelope.time > until):
                continue
            line = json.dumps(envelope.to_structured(), ensure_ascii=False, separators=(",", ":"))
            report.exported += 1
            if sort:
                buffered.append((envelope.time, record.partition, record.offset, line))
            else:
                write(line + "\n")
        for *_, line in sorted(buffered, key=lambda item: item[:3]):
            write(line + "\n")
    finally:
        await consumer.stop()
    return report
