"""The relay clientes runs idles long but publishes a freshly committed event at once when nudged (wake)."""

import asyncio
import time

from contracts.clientes import ClienteEliminado
from contracts.envelope import envelope_for
from producers.outbox import OutboxRelay, OutboxRow, Publish
from tests.conftest import eventually


class _Store:
    def __init__(self) -> None:
        self.pending: list[OutboxRow] = []
        self.published: list[str] = []
        self.claims = 0

    async def relay_batch(self, limit: int, publish: Publish) -> int:
        self.claims += 1
        batch, self.pending = self.pending[:limit], self.pending[limit:]
        if batch:
            await publish(batch)
            self.published += [r.event_id for r in batch]
        return len(batch)


class _Producer:
    async def send(self, *_: object, **__: object) -> "asyncio.Future[None]":
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def _row(i: int) -> OutboxRow:
    return OutboxRow.of(envelope_for(ClienteEliminado(cliente_id=i), source="/t"))


async def test_un_aviso_publica_sin_esperar_el_sueno_largo() -> None:
    store, wake, stop = _Store(), asyncio.Event(), asyncio.Event()
    relay = OutboxRelay(store, _Producer(), idle_sleep=30.0, wake=wake)  # type: ignore[arg-type]
    task = asyncio.create_task(relay.run(stop))
    await eventually(lambda: _async(store.claims >= 1), timeout=2, interval=0.01, what="first (empty) claim")

    started = time.monotonic()
    store.pending.append(_row(1))
    wake.set()  # what a writer does after its commit
    await eventually(lambda: _async(len(store.published) == 1), timeout=2, interval=0.01, what="nudged publish")
    assert time.monotonic() - started < 2  # far below the 30 s idle sleep
    assert store.claims == 2  # the empty claim and the nudged one: no polling in between

    stop.set()
    await asyncio.wait_for(task, timeout=2)  # stop also interrupts the idle sleep


async def _async(value: bool) -> bool:
    return value
