"""The contract of producers.outbox.OutboxStore (the relay's side of an outbox), written once; subclasses supply
an `outbox` fixture for one implementation: the in-memory fake of the unit tests, PostgreSQL, MariaDB."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pytest

from contracts.clientes import ClienteEliminado
from contracts.envelope import Envelope, envelope_for
from producers.outbox import OutboxStore
from producers.outbox_row import OutboxRow


class Writer(Protocol):
    async def __call__(self, envelopes: Sequence[Envelope]) -> None: ...


@dataclass(frozen=True)
class OutboxUnderTest:
    store: OutboxStore
    write: Writer  # commits events as a use case does (its own transaction)


def eventos(n: int, start: int = 0) -> list[Envelope]:
    return [envelope_for(ClienteEliminado(cliente_id=i), source="/contract") for i in range(start, start + n)]


class Published:
    """A `publish` callback that records what it was handed."""

    def __init__(self) -> None:
        self.batches: list[list[OutboxRow]] = []

    async def __call__(self, rows: Sequence[OutboxRow]) -> None:
        self.batches.append(list(rows))

    @property
    def ids(self) -> list[str]:
        return [r.event_id for batch in self.batches for r in batch]


class OutboxStoreContract:
    """Every OutboxStore behaves like this. Not collected itself (no Test prefix); subclass it as Test<Store>."""

    @pytest.fixture
    async def outbox(self) -> OutboxUnderTest:
        """The implementation under test, empty; overridden by every subclass."""
        raise NotImplementedError

    async def test_entrega_en_el_orden_escrito_y_por_lotes(self, outbox: OutboxUnderTest) -> None:
        written = eventos(7)
        await outbox.write(written[:4])
        await outbox.write(written[4:])
        published = Published()
        assert [await outbox.store.relay_batch(3, published) for _ in range(4)] == [3, 3, 1, 0]
        assert [len(b) for b in published.batches] == [3, 3, 1]
        assert published.ids == [e.id for e in written]

    async def test_una_fila_llega_tal_como_se_escribio(self, outbox: OutboxUnderTest) -> None:
        [evento] = eventos(1, start=41)
        await outbox.write([evento])
        published = Published()
        assert await outbox.store.relay_batch(10, published) == 1
        assert published.batches == [[OutboxRow.of(evento)]]

    async def test_lo_que_no_se_pudo_publicar_se_entrega_otra_vez(self, outbox: OutboxUnderTest) -> None:
        written = eventos(2)
        await outbox.write(written)

        async def broker_down(_: Sequence[OutboxRow]) -> None:
            raise ConnectionError("broker down")

        with pytest.raises(ConnectionError):
            await outbox.store.relay_batch(10, broker_down)
        published = Published()
        assert await outbox.store.relay_batch(10, published) == 2
        assert published.ids == [e.id for e in written]
        assert await outbox.store.relay_batch(10, published) == 0  # marked: never handed out again

    async def test_dos_relays_se_turnan(self, outbox: OutboxUnderTest) -> None:
        await outbox.write(eventos(3))
        inside, release = asyncio.Event(), asyncio.Event()

        async def slow(_: Sequence[OutboxRow]) -> None:
            inside.set()
            await release.wait()

        first = asyncio.create_task(outbox.store.relay_batch(10, slow))
        try:
            await asyncio.wait_for(inside.wait(), timeout=10)
            other = Published()
            assert await outbox.store.relay_batch(10, other) == 0  # the claim is held: nothing, not the same rows
            assert other.batches == []
        finally:
            release.set()
        assert await asyncio.wait_for(first, timeout=10) == 3
