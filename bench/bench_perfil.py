"""Benchmark of MS3 perfil: projection throughput, rebuild time of the real view, view lag under load, search.

Run: .venv/bin/python -m bench.bench_perfil [--clientes 3000] [--search-clientes 20000] [--rate 300 --seconds 20]
     [--phases throughput,rebuild,lag,search]

- throughput: a synthetic history (~12 events per cliente) published to fresh topics, folded from offset 0
  into a fresh database by the real LiveProjection; events/s, this process's CPU per event (meaningful
  on a busy machine) and PostgreSQL's.
- rebuild: `bank replay perfil` logic on the real topics and database, without switching (the new copy is
  compared with the live one, then dropped): records/s and seconds for the data set present.
- lag: SaldoActualizado + TransaccionRegistrada published at --rate events/s for --seconds to fresh topics
  while the projection folds them; lag = commit of the fold - ce_time of the event; p50/p99.
- search: --search-clientes clientes (one account each) folded into a fresh view, then /buscar queries of
  each kind through the service layer (email, apellido, document, account number, miss); p50/p99.
Fresh topics and databases are deleted afterwards; results in bench/results/perfil.json.
"""

import argparse
import asyncio
import dataclasses
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench._cpu import this_stack
from bench._harness import percentile, save
from consumers.runner import make_consumer
from contracts.base import Message
from contracts.envelope import Envelope, envelope_for
from contracts.topics import CLIENTES, CUENTAS, PARTITIONS, TRANSACCIONES
from producers.kafka import make_producer
from services.perfil import service
from services.perfil.main import open_store
from services.perfil.rebuild import rebuild
from services.perfil.runner import LiveProjection
from services.perfil.settings import PerfilSettings
from services.perfil.store import ViewStore
from services.platform import gc_policy
from tests.unit.perfil import events as ev

KAFKA = "127.0.0.1:9092"
PHASES = ("throughput", "rebuild", "lag", "search")
ADMIN_DSN = "postgresql://bank:bank@127.0.0.1:5432/postgres"


@asynccontextmanager
async def fresh_topics() -> AsyncIterator[dict[str, str]]:
    base = f"bench.perfil.{uuid.uuid4().hex[:8]}"
    names = {CLIENTES: f"{base}.clientes", CUENTAS: f"{base}.cuentas", TRANSACCIONES: f"{base}.transacciones"}
    all_names = [*names.values(), *(f"{n}.dlq" for n in names.values())]
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics(
        [NewTopic(names[t], PARTITIONS[t], 1) for t in names] + [NewTopic(f"{n}.dlq", 1, 1) for n in names.values()]
    )
    try:
        yield names
    finally:
        await admin.delete_topics(all_names)
        await admin.close()


@asynccontextmanager
async def fresh_producer() -> AsyncIterator[AIOKafkaProducer]:
    """One per phase: a producer remembers the topics it wrote to and keeps asking for them once deleted."""
    producer = make_producer(KAFKA, client_id="bench-perfil", linger_ms=20)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@asynccontextmanager
async def fresh_store() -> AsyncIterator[ViewStore]:
    name = f"perfil_bench_{uuid.uuid4().hex[:8]}"
    store = await open_store(PerfilSettings(database_url=ADMIN_DSN.replace("/postgres", f"/{name}")))
    try:
        yield store
    finally:
        await store.pool.close()
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def envelopes(messages: Sequence[Message], topics: dict[str, str]) -> list[Envelope]:
    return [dataclasses.replace(envelope_for(m, source="/bench"), topic=topics[m.topic]) for m in messages]


async def publish(producer: AIOKafkaProducer, batch: Sequence[Envelope]) -> None:
    futures = [await producer.send(e.topic, e.value(), key=e.key, headers=e.headers()) for e in batch]
    await asyncio.gather(*futures)


@asynccontextmanager
async def projection(store: ViewStore, topics: dict[str, str], producer: AIOKafkaProducer, on_applied: Any = None):
    reader = make_consumer(KAFKA, f"perfil.bench.{uuid.uuid4().hex[:8]}", ())
    await reader.start()
    running = LiveProjection(store, reader, producer, list(topics.values()), on_applied=on_applied)
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    try:
        yield running
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await reader.stop()


async def wait_folded(running: LiveProjection, n: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while running.status.folded < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"folded {running.status.folded} of {n}")
        await asyncio.sleep(0.05)


async def bench_throughput(clientes: int) -> dict[str, Any]:
    messages = ev.workload(clientes, seed=42, movimientos=4)
    events = len(messages)
    async with fresh_topics() as topics, fresh_store() as store, fresh_producer() as producer:
        await publish(producer, envelopes(messages, topics))
        # The history's ~40k messages are not the projection's: left in this process they made its cyclic GC walk
        # them on every full collection (~1/4 of the measured CPU), which a perfil process never does.
        del messages
        gc_policy.tune()  # as `bank serve perfil` does
        stack = this_stack()
        cpu, started = time.process_time(), time.perf_counter()
        async with projection(store, topics, producer) as running:
            await wait_folded(running, events)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        used = stack.again().since(stack) if stack else {}
    return {
        "name": "projection throughput (fresh view, from offset 0)",
        "requests": events,
        "concurrency": 1,
        "seconds": round(seconds, 2),
        "rps": round(events / seconds, 1),
        "cpu_ms_per_event": round(cpu * 1000 / events, 3),
        # The other half of a fold: the view's database (the stack's PostgreSQL, idle otherwise during the run).
        "postgres_cpu_ms_per_event": round(used.get("postgres", 0.0) / events, 3) if used else None,
        "clientes": clientes,
        "errors": 0,
    }


async def bench_rebuild() -> dict[str, Any]:
    settings = PerfilSettings()
    store = await open_store(settings)
    try:
        report = await rebuild(store, settings.kafka_bootstrap, settings.topics, switch=False, say=lambda _: None)
        await store.drop_view(report.schema)
    finally:
        await store.pool.close()
    return {
        "name": "rebuild of the real view (no switch)",
        "requests": report.events,
        "concurrency": 1,
        "seconds": round(report.seconds, 2),
        "rps": round(report.events_per_second, 1),
        "documents": report.documents,
        "compared_equal": report.compared and report.differences == 0,
        "errors": report.differences,
    }


async def bench_lag(rate: int, seconds: float) -> dict[str, Any]:
    cuentas = 500
    setup: list[Message] = []
    for c in range(1, cuentas + 1):
        setup += [ev.cliente_creado(c), ev.cuenta_abierta(c * 10, c)]
    lags: list[float] = []

    def on_applied(folded: Sequence[Envelope]) -> None:
        now = datetime.now(UTC)
        lags.extend((now - e.time).total_seconds() * 1000 for e in folded if e.type.endswith("SaldoActualizado.v1"))

    async with fresh_topics() as topics, fresh_store() as store, fresh_producer() as producer:
        await publish(producer, envelopes(setup, topics))
        async with projection(store, topics, producer, on_applied) as running:
            await wait_folded(running, len(setup))
            rnd = random.Random(7)
            saldos = dict.fromkeys(range(1, cuentas + 1), Decimal(0))
            sent, mov, started = 0, 0, time.perf_counter()
            per_tick = max(2, rate // 20)  # 20 ticks a second: half movements, half transactions
            while time.perf_counter() - started < seconds:
                tick = time.perf_counter()
                batch: list[Message] = []
                for _ in range(per_tick // 2):
                    c = rnd.randint(1, cuentas)
                    mov += 1
                    saldos[c] += 10
                    batch += [
                        ev.saldo(c * 10, c, mov, f"{saldos[c]:.2f}"),
                        ev.registrada(destino=(c, c * 10), minute=mov),
                    ]
                await publish(producer, envelopes(batch, topics))
                sent += len(batch)
                await asyncio.sleep(max(0.0, 0.05 - (time.perf_counter() - tick)))
            wall = time.perf_counter() - started
            await wait_folded(running, len(setup) + sent, timeout=120)
    return {
        "name": f"view lag at {rate} events/s (SaldoActualizado ce_time -> fold committed)",
        "requests": sent,
        "concurrency": 1,
        "seconds": round(wall, 2),
        "rps": round(sent / wall, 1),
        "p50_ms": round(percentile(lags, 50), 1),
        "p99_ms": round(percentile(lags, 99), 1),
        "max_ms": round(max(lags, default=0.0), 1),
        "errors": 0,
    }


async def bench_search(clientes: int, queries: int = 200) -> list[dict[str, Any]]:
    messages: list[Message] = []
    for c in range(1, clientes + 1):
        messages += [ev.cliente_creado(c, apellido=f"Apellido{c}", email=f"cli{c}@correo.pe"), ev.cuenta_abierta(c, c)]
    results = []
    async with fresh_topics() as topics, fresh_store() as store, fresh_producer() as producer:
        await publish(producer, envelopes(messages, topics))
        async with projection(store, topics, producer) as running:
            await wait_folded(running, len(messages))
        schema = await store.active_schema()
        rnd = random.Random(1)
        kinds: dict[str, Callable[[int], str]] = {
            "email": lambda c: f"cli{c}@correo",
            "apellido": lambda c: f"apellido{c}",
            "documento": lambda c: f"{c:08d}",
            "numero_cuenta": lambda c: f"{c:013d}",
            "sin resultados": lambda c: f"zzq{c}x",
            "nombre común (many hits, page of 100)": lambda c: "ana",
        }
        for kind, query in kinds.items():
            latencies = []
            for _ in range(queries):
                q = query(rnd.randint(1, clientes))
                t = time.perf_counter()
                await service.buscar(store, schema, q, skip=0, limit=100)
                latencies.append((time.perf_counter() - t) * 1000)
            results.append(
                {
                    "name": f"search by {kind} over {clientes} clientes",
                    "requests": queries,
                    "concurrency": 1,
                    "rps": round(queries / (sum(latencies) / 1000), 1),
                    "p50_ms": round(percentile(latencies, 50), 2),
                    "p99_ms": round(percentile(latencies, 99), 2),
                    "errors": 0,
                }
            )
    return results


async def main(args: argparse.Namespace) -> None:
    phases = set(args.phases.split(","))
    results: list[dict[str, Any]] = []
    if "throughput" in phases:
        results.append(await bench_throughput(args.clientes))
        print(results[-1])
    if "rebuild" in phases:
        results.append(await bench_rebuild())
        print(results[-1])
    if "lag" in phases:
        results.append(await bench_lag(args.rate, args.seconds))
        print(results[-1])
    if "search" in phases:
        results += await bench_search(args.search_clientes)
    save("perfil" if phases >= set(PHASES) else f"perfil-{'-'.join(sorted(phases))}", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clientes", type=int, default=3000, help="clientes in the throughput history")
    parser.add_argument("--search-clientes", type=int, default=20000)
    parser.add_argument("--rate", type=int, default=300, help="events/s published during the lag run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the lag run")
    parser.add_argument("--phases", default=",".join(PHASES), help="which of " + ",".join(PHASES) + " to run")
    asyncio.run(main(parser.parse_args()))
