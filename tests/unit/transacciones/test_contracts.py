"""The storage contracts of transacciones run against the unit tests' fakes (the same tests run against FerretDB
and Kafka in tests/integration/transacciones/test_contracts.py)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from producers.outbox import Publish
from producers.outbox_row import OutboxRow
from services.transacciones.repository import Repository
from tests.contract.transacciones import PublishContract, RepositoryContract
from tests.unit.transacciones.fakes import Broker, FakeRepository


class TestFakeRepository(RepositoryContract):
    @asynccontextmanager
    async def repository(self) -> AsyncIterator[Repository]:
        yield FakeRepository()


class TestFakeBroker(PublishContract):
    @asynccontextmanager
    async def broker(self) -> AsyncIterator[tuple[str, Publish]]:
        self._broker = Broker()
        yield "test.fake", self._broker.publish

    async def read(self, topic: str, count: int) -> list[OutboxRow]:
        return [r for r in self._broker.rows if r.topic == topic]

    @asynccontextmanager
    async def unavailable(self) -> AsyncIterator[Publish]:
        yield Broker(down=True).publish
