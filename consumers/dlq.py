"""The one shape of a dead letter: the original record, on `<topic>.dlq`, with why and from where in its headers."""

import logging
from collections.abc import Callable

from aiokafka import AIOKafkaProducer

from consumers.record import KafkaRecord
from contracts.topics import dlq

log = logging.getLogger(__name__)

# Called with (group, original topic) after each dead letter: how a process's metrics count them
# (services.platform.metrics registers itself) without this package knowing about metrics.
OBSERVERS: list[Callable[[str, str], None]] = []


def dead_letter_headers(record: KafkaRecord, error: BaseException, group: str) -> list[tuple[str, bytes]]:
    """The record's own headers (its CloudEvent attributes) plus the error and the position it was read at,
    which `bank audit` reports and an operator needs to replay it."""
    return [
        *record.headers,
        ("dlq_error", repr(error)[:2000].encode()),
        ("dlq_error_type", type(error).__name__.encode()),
        ("dlq_original_topic", record.topic.encode()),
        ("dlq_original_partition", str(record.partition).encode()),
        ("dlq_original_offset", str(record.offset).encode()),
        ("dlq_consumer_group", group.encode()),
    ]


async def dead_letter(producer: AIOKafkaProducer, record: KafkaRecord, error: BaseException, *, group: str) -> None:
    """Write `record` to its topic's DLQ (same key, so same partition order); returns once the broker has it."""
    headers = dead_letter_headers(record, error, group)
    await producer.send_and_wait(dlq(record.topic), record.value, key=record.key, headers=headers)
    for observe in OBSERVERS:
        observe(group, record.topic)
    log.error("%s dead-lettered %s@%d:%d: %r", group, record.topic, record.partition, record.offset, error)
