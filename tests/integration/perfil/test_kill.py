"""A perfil process killed (SIGKILL) mid-stream resumes from the view's own offsets: nothing lost, nothing twice."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
import uuid
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import TopicPartition

from services.perfil.store import ViewStore
from tests.conftest import eventually
from tests.integration import stack
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA, PG_DSN, URLS
from tests.integration.perfil.conftest import Bank, Publish, Topics
from tests.integration.perfil.test_projection import applied, expected_documents, stored_documents
from tests.integration.perfil.test_rest import compare
from tests.integration.scaling import Load, end_offsets, held_partitions, running, wait_until
from tests.unit.perfil import events as ev

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def start_perfil(view_db: str, topics: Topics) -> AsyncIterator[Callable[[], Awaitable[Process]]]:
    procs: list[Process] = []
    env = {
        **os.environ,
        "PERFIL_DATABASE_URL": view_db,
        "PERFIL_KAFKA_BOOTSTRAP": KAFKA,
        "PERFIL_TOPICS": json.dumps(topics.all()),
        "PERFIL_GROUP_ID": f"perfil.test.{uuid.uuid4().hex[:8]}",  # not the stack's group: its own topics
        "PERFIL_BATCH_MAX_RECORDS": "300",  # many small transactions: a kill lands between or inside one
    }

    async def start() -> Process:
        proc = await asyncio.create_subprocess_exec(
            str(ROOT / ".venv/bin/bank"),
            "serve",
            "perfil",
            "--port",
            str(free_port()),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.kill()


async def test_a_projection_killed_mid_stream_resumes_without_loss_or_double_folding(
    store: ViewStore, publish: Publish, start_perfil
) -> None:
    messages = ev.workload(400, seed=3, first_id=1000)
    await publish(*messages)

    first = await start_perfil()

    async def some_folded() -> bool:
        return await applied(store) > 0

    await eventually(some_folded, timeout=60, interval=0.02, what="the projection to start folding")
    os.kill(first.pid, signal.SIGKILL)
    await first.wait()
    at_kill = await applied(store)
    assert 0 < at_kill < len(messages), "the kill should land mid-stream"

    await start_perfil()

    async def all_folded() -> bool:
        return await applied(store) >= len(messages)

    await eventually(all_folded, timeout=90, what=f"all {len(messages)} events folded after the restart")
    assert await applied(store) == len(messages)  # every event folded exactly once
    assert await stored_documents(store, await store.active_schema()) == expected_documents(messages)


STACK_VIEW = PG_DSN.rsplit("/", 1)[0] + "/perfil"
INSTANCES = {"perfil-1": "http://127.0.0.1:6010/metrics", "perfil-2": "http://127.0.0.1:6011/metrics"}
GROUP = "perfil.proyeccion"


async def _held() -> set[TopicPartition]:
    out: set[TopicPartition] = set()
    for url in INSTANCES.values():
        with contextlib.suppress(httpx.TransportError):  # killed, or starting
            out |= await held_partitions(url, GROUP)
    return out


async def _stored_offsets(conn: asyncpg.Connection) -> dict[TopicPartition, int]:
    schema = await conn.fetchval("SELECT schema_name FROM view_pointer WHERE id = 1")
    rows = await conn.fetch(f'SELECT topic, partition, next_offset FROM "{schema}".offsets')
    return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def _fold_counts(conn: asyncpg.Connection) -> tuple[int, int]:
    """(events the view's folds counted, distinct event ids it applied), read in one snapshot."""
    schema = await conn.fetchval("SELECT schema_name FROM view_pointer WHERE id = 1")
    row = await conn.fetchrow(
        f'SELECT (SELECT events_applied FROM "{schema}".view_state) AS counted, '
        f'(SELECT count(*) FROM "{schema}".eventos_aplicados) AS distinct_ids'
    )
    return int(row["counted"]), int(row["distinct_ids"])


class Reader:
    """Reads profiles through the balancer (:6000) non-stop, as a client that retries a failed read once."""

    def __init__(self, http: httpx.AsyncClient, ids: list[int]) -> None:
        self.http, self.ids = http, ids
        self.reads = self.retried = 0
        self.failed: list[str] = []

    async def _get(self, cliente_id: int) -> str | None:
        try:
            r = await self.http.get(f"{URLS['perfil']}/api/clientes/{cliente_id}/perfil-completo")
        except httpx.TransportError as exc:
            return repr(exc)
        return None if r.status_code == 200 else f"{r.status_code} {r.text[:200]}"

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            cliente_id = self.ids[n % len(self.ids)]
            n += 1
            self.reads += 1
            if await self._get(cliente_id) is None:
                continue
            self.retried += 1
            error = await self._get(cliente_id)
            if error is not None:
                self.failed.append(error)


async def test_kill_9_de_una_instancia_del_stack_bajo_carga_sin_lecturas_fallidas(bank: Bank) -> None:
    """perfil-1 is killed under a load of transactions while a client reads through :6000: perfil-2 (and the
    restarted perfil-1) take its partitions over from the offsets in the view, no read fails, and every profile
    ends equal to what the owning services say, each event folded once."""
    clientes = [await bank.nuevo_cliente("Failover") for _ in range(2)]
    cuentas = [
        (await bank.abrir_cuenta(c["cliente_id"], "1000.00", "PEN"))["cuenta_id"] for c in clientes for _ in range(2)
    ]
    everything = set(await end_offsets())
    assert await _held() == everything, "the two instances hold every partition before the kill"
    view = await asyncpg.connect(STACK_VIEW)
    try:
        counts_before = await _fold_counts(view)
        async with httpx.AsyncClient(auth=Bearer(), timeout=30) as http:
            reader = Reader(http, [c["cliente_id"] for c in clientes])
            reading = asyncio.Event()
            reads = asyncio.create_task(reader.run(reading))
            load = Load(http, cuentas)
            async with running(load):
                await asyncio.sleep(8)
                at_kill = await end_offsets()
                stack.kill9("perfil-1")
                killed = time.monotonic()
                await asyncio.sleep(0.5)

                async def reassigned() -> bool:
                    return await _held() == everything

                async def caught_up() -> bool:
                    stored = await _stored_offsets(view)
                    return all(stored.get(tp, 0) >= end for tp, end in at_kill.items() if end > 0)

                assert await wait_until(reassigned, timeout=180) is not None, await _held()
                reassigned_after = time.monotonic() - killed
                assert await wait_until(caught_up, timeout=180) is not None, "the view caught up after the kill"
                caught_up_after = time.monotonic() - killed
                await asyncio.sleep(5)
            await load.wait_final()
            reading.set()
            await reads
        print(
            f"\n[perfil-1 kill -9] every partition held by a live instance again after {reassigned_after:.1f} s; "
            f"everything published before the kill folded after {caught_up_after:.1f} s; "
            f"{reader.reads} reads through :6000, {reader.retried} retried once, {len(reader.failed)} failed"
        )
        assert reader.failed == [], reader.failed[:5]
        assert reader.reads > 50

        stops = await end_offsets()

        async def folded_to_the_end() -> bool:
            stored = await _stored_offsets(view)
            return all(stored.get(tp, 0) >= end for tp, end in stops.items() if end > 0)

        await eventually(folded_to_the_end, timeout=120, interval=0.5, what="the view folded to the end of the topics")
        stored = await _stored_offsets(view)
        assert {tp: stored.get(tp, 0) for tp in stops if stops[tp] > 0} == {tp: e for tp, e in stops.items() if e > 0}
        # Each event folded once: over the run, the fold counter (bumped in the fold's transaction by the events it
        # folded) grew by as much as the set of distinct event ids applied.
        counted, distinct = await _fold_counts(view)
        assert counted - counts_before[0] == distinct - counts_before[1] > 0
    finally:
        await view.close()
    for cliente in clientes:

        async def matches(cliente_id: int = cliente["cliente_id"]) -> bool:
            return not await compare(bank, cliente_id)

        try:
            await eventually(matches, timeout=60, interval=0.5, what=f"profile of cliente {cliente['cliente_id']}")
        except AssertionError:
            raise AssertionError(f"{cliente['cliente_id']}: {await compare(bank, cliente['cliente_id'])}") from None
