"""The in-memory outbox the unit tests use keeps the OutboxStore contract (the real stores: tests/integration)."""

import pytest

from tests.contract.outbox_store import OutboxStoreContract, OutboxUnderTest
from tests.unit.foundation.fakes import InMemoryOutbox


class TestInMemoryOutbox(OutboxStoreContract):
    @pytest.fixture
    async def outbox(self) -> OutboxUnderTest:
        store = InMemoryOutbox()
        return OutboxUnderTest(store, store.write)
