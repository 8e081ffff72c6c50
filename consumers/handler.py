"""What a Kafka handler is: an object with `handle(delivery)` and `handle_batch(deliveries)`, fed by ConsumerLoop."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from contracts.envelope import Envelope


@dataclass(frozen=True)
class Delivery:
    """One consumed record, parsed, with its position."""

    envelope: Envelope
    topic: str
    partition: int
    offset: int


class Handler(Protocol):
    """Every Kafka handler of the services. Both methods must be idempotent (a redelivery changes nothing) and
    raise to refuse: ConsumerLoop commits nothing it was refused.

    `handle_batch` gets a partition's run of deliveries, in order, and applies all or none of them (one
    transaction). When it raises, ConsumerLoop calls `handle` for each delivery instead, so that only the bad
    message is retried or dead-lettered; a handler with no faster batch path may simply raise."""

    async def handle(self, delivery: Delivery) -> None: ...

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None: ...
