"""A Kafka handler object made of test functions, for ConsumerLoop tests."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from consumers.handler import Delivery


@dataclass(frozen=True)
class FunctionHandler:
    """`one` handles a delivery; without `batch`, handle_batch refuses, so the loop goes one by one."""

    one: Callable[[Delivery], Awaitable[None]]
    batch: Callable[[Sequence[Delivery]], Awaitable[None]] | None = None

    async def handle(self, delivery: Delivery) -> None:
        await self.one(delivery)

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        if self.batch is None:
            raise NotImplementedError("no batch path: one by one")
        await self.batch(deliveries)
