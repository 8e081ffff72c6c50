"""OutboxRelay publishes what the store hands it and leaves unpublished rows for the next try."""

import asyncio
from typing import Any

from aiokafka.errors import KafkaConnectionError

from contracts.clientes import ClienteEliminado
from contracts.envelope import envelope_for
from producers.outbox import OutboxRelay
from producers.outbox_row import OutboxRow
from tests.conftest import eventually
from tests.unit.foundation.fakes import InMemoryOutbox


def _waiting(n: int) -> InMemoryOutbox:
    """n rows waiting; rows are marked only when publish returned (the contract: tests/contract/outbox_store.py)."""
    return InMemoryOutbox([envelope_for(ClienteEliminado(cliente_id=i), source="/t") for i in range(n)])


class FakeProducer:
    def __init__(self, fail_times: int = 0) -> None:
        self.fail_times = fail_times
        self.sent: list[tuple[str, bytes]] = []

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> "asyncio.Future[None]":
        if self.fail_times:
            self.fail_times -= 1
            raise KafkaConnectionError("broker down")
        self.sent.append((topic, key))
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut


async def _run_until(relay: OutboxRelay, store: InMemoryOutbox, n: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))

    async def all_published() -> bool:
        return len(store.published) >= n

    await eventually(all_published, timeout=5, interval=0.01, what=f"{n} rows published")
    stop.set()
    await task


async def test_publica_todo_en_orden_y_por_lotes() -> None:
    store, producer = _waiting(12), FakeProducer()
    relay = OutboxRelay(store, producer, batch_size=5, idle_sleep=0.01)  # type: ignore[arg-type]
    await _run_until(relay, store, 12)
    assert [k for _, k in producer.sent] == [str(i).encode() for i in range(12)]
    assert relay.published == 12


async def test_un_broker_caido_no_marca_nada_y_se_reintenta() -> None:
    store, producer = _waiting(3), FakeProducer(fail_times=2)
    relay = OutboxRelay(store, producer, batch_size=10, idle_sleep=0.01, error_sleep=0.01)  # type: ignore[arg-type]
    await _run_until(relay, store, 3)
    assert len(producer.sent) == 3


def test_una_fila_conserva_los_headers_del_envelope() -> None:
    env = envelope_for(ClienteEliminado(cliente_id=9), source="/clientes")
    row = OutboxRow.of(env)
    assert OutboxRow.from_document(row.to_document()) == row
    assert ("ce_type", "bank.clientes.ClienteEliminado.v1") in row.headers
    assert row.key == "9"
    assert isinstance(row.to_document()["headers"], str)  # one value for FerretDB to decode, not 13 documents
    # Documents written before that kept {name, value} documents: still read the same.
    earlier = row.to_document() | {"headers": [{"name": k, "value": v} for k, v in row.headers]}
    assert OutboxRow.from_document(earlier) == row
