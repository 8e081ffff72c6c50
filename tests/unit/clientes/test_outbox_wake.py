"""The relay clientes runs idles long but publishes a freshly committed event at once when nudged (wake)."""

import asyncio
import time

from contracts.clientes import ClienteEliminado
from contracts.envelope import Envelope, envelope_for
from producers.outbox import OutboxRelay
from tests.conftest import eventually
from tests.unit.foundation.fakes import InMemoryOutbox


class _Producer:
    async def send(self, *_: object, **__: object) -> "asyncio.Future[None]":
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def _evento(i: int) -> Envelope:
    return envelope_for(ClienteEliminado(cliente_id=i), source="/t")


async def test_un_aviso_publica_sin_esperar_el_sueno_largo() -> None:
    store, wake, stop = InMemoryOutbox(), asyncio.Event(), asyncio.Event()
    relay = OutboxRelay(store, _Producer(), idle_sleep=30.0, wake=wake)  # type: ignore[arg-type]
    task = asyncio.create_task(relay.run(stop))
    await eventually(lambda: _async(store.claims >= 1), timeout=2, interval=0.01, what="first (empty) claim")

    started = time.monotonic()
    store.add([_evento(1)])
    wake.set()  # what a writer does after its commit
    await eventually(lambda: _async(len(store.published) == 1), timeout=2, interval=0.01, what="nudged publish")
    assert time.monotonic() - started < 2  # far below the 30 s idle sleep
    assert store.claims == 2  # the empty claim and the nudged one: no polling in between

    stop.set()
    await asyncio.wait_for(task, timeout=2)  # stop also interrupts the idle sleep


async def _async(value: bool) -> bool:
    return value
