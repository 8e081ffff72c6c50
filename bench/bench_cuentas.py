"""Benchmark of MS2 cuentas: PATCH /cuentas/{id}/saldo through the balancer (127.0.0.1:8002, both instances) at a
few concurrency levels, spread over many accounts and all on one hot account; the saga's cuentas side (a burst of
Debitar/AcreditarCuenta commands on Kafka until every reply event is out); and, for comparison, the raw rate of
the single-row conditional balance update straight on MariaDB (aiomysql, N connections, autocommit).

Run: .venv/bin/python -m bench.bench_cuentas [--requests N] [--concurrency 1,16,64] [--accounts 50]
Needs the stack and both cuentas instances up. Creates a bench cliente (announced on bank.clientes.v1) and its
accounts through the real paths; the raw-SQL part runs on a scratch database that it drops afterwards."""

import argparse
import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bank.auth import bearer_auth
from bench._harness import concurrency_levels, measure, percentile, save
from bench._raw_mariadb import raw_balance_updates
from contracts import topics
from contracts.clientes import ClienteCreado
from contracts.comandos import AcreditarCuenta, DebitarCuenta
from contracts.envelope import envelope_for
from producers.kafka import make_producer, publish

BASE = "http://127.0.0.1:8002"
HAPROXY_STATS = "http://127.0.0.1:8404/;csv"
KAFKA = "127.0.0.1:9092"


async def _bench_cliente() -> int:
    cliente_id = random.randint(2_000_000_001, 2_100_000_000)
    producer = make_producer(KAFKA, client_id="bench-cuentas")
    await producer.start()
    try:
        event = ClienteCreado(
            cliente_id=cliente_id,
            nombre="Bench",
            apellido="Cuentas",
            email=f"bench.{uuid.uuid4().hex[:8]}@example.com",
            estado="activo",
            fecha_registro=datetime.now(UTC),
        )
        await publish(producer, envelope_for(event, source="/bench/cuentas"))
    finally:
        await producer.stop()
    return cliente_id


async def _open_accounts(client: httpx.AsyncClient, cliente_id: int, count: int) -> list[int]:
    body = {"cliente_id": cliente_id, "tipo_cuenta_id": 1, "saldo": "1000000.00"}
    for _ in range(300):  # the replica learns of the cliente asynchronously
        first = await client.post("/cuentas", json=body)
        if first.status_code == 201:
            break
        await asyncio.sleep(0.1)
    first.raise_for_status()
    ids = [first.json()["cuenta_id"]]
    for _ in range(count - 1):
        r = await client.post("/cuentas", json=body)
        r.raise_for_status()
        ids.append(r.json()["cuenta_id"])
    return ids


async def _http(requests: int, levels: list[int], accounts: int) -> list[dict[str, Any]]:
    limits = httpx.Limits(max_connections=max(levels), max_keepalive_connections=max(levels))
    async with httpx.AsyncClient(auth=bearer_auth(), base_url=BASE, timeout=30, limits=limits) as client:
        ids = await _open_accounts(client, await _bench_cliente(), accounts)

        def patch(pick: Any) -> Any:
            async def call(i: int) -> None:
                # Deposits and withdrawals alternate, so balances stay far from 0 and every call succeeds.
                op = "deposito" if i % 2 == 0 else "retiro"
                r = await client.patch(f"/cuentas/{pick(i)}/saldo", json={"monto": "1.00", "operacion": op})
                r.raise_for_status()

            return call

        spread = patch(lambda i: ids[i % len(ids)])
        hot = patch(lambda i: ids[0])
        await measure("warm-up", spread, requests=min(200, requests), concurrency=min(levels))
        results = [
            await measure(f"PATCH saldo, {accounts} accounts", spread, requests=requests, concurrency=c) for c in levels
        ]
        results.append(await measure("PATCH saldo, 1 hot account", hot, requests=requests, concurrency=max(levels)))
        return results


async def _commands(total: int, accounts: int) -> dict[str, Any]:
    """Produce `total` commands at once and time each until its reply (SaldoActualizado) is on bank.cuentas.v1:
    consumer poll + batch transaction + outbox relay, the path every saga step takes."""
    async with httpx.AsyncClient(auth=bearer_auth(), base_url=BASE, timeout=30) as client:
        ids = await _open_accounts(client, await _bench_cliente(), accounts)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None, enable_auto_commit=False)
    await consumer.start()
    producer = make_producer(KAFKA, client_id="bench-cuentas")
    await producer.start()
    try:
        parts = [TopicPartition(topics.CUENTAS, p) for p in range(topics.PARTITIONS[topics.CUENTAS])]
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)
        for tp in parts:
            await consumer.position(tp)
        trx = f"BENCH-{uuid.uuid4().hex[:8]}"
        commands: list[DebitarCuenta | AcreditarCuenta] = []
        for i in range(total):
            kind = AcreditarCuenta if i % 2 == 0 else DebitarCuenta
            commands.append(
                kind(
                    comando_id=str(uuid.uuid4()),
                    transaccion_id=trx,
                    cuenta_id=ids[i % len(ids)],
                    monto="1.00",
                    moneda="PEN",
                )  # type: ignore[arg-type]
            )
        sent: dict[str, float] = {}
        started = time.perf_counter()
        futures = []
        for c in commands:
            env = envelope_for(c, source="/bench/cuentas")
            sent[c.comando_id] = time.perf_counter()
            futures.append(await producer.send(env.topic, env.value(), key=env.key, headers=env.headers()))
        await asyncio.gather(*futures)
        latencies: list[float] = []
        deadline = time.perf_counter() + 300
        while len(latencies) < total and time.perf_counter() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                now = time.perf_counter()
                for r in records:
                    comando_id = json.loads(r.value or b"{}").get("comando_id")
                    if comando_id in sent:
                        latencies.append((now - sent.pop(comando_id)) * 1000)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
        await consumer.stop()
    latencies.sort()
    return {
        "name": f"saga commands -> replies, {accounts} accounts",
        "requests": total,
        "concurrency": total,
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "errors": total - len(latencies),
    }


async def _wait_balancer() -> None:
    """Both instances UP behind HAProxy (right after a restart they are still being checked)."""
    async with httpx.AsyncClient(timeout=3) as client:
        for _ in range(120):
            csv = (await client.get(HAPROXY_STATS)).text
            if sum(1 for line in csv.splitlines() if line.startswith("cuentas,cuentas-") and ",UP," in line) == 2:
                return
            await asyncio.sleep(0.5)
    raise SystemExit("cuentas-1 and cuentas-2 are not both UP in HAProxy")


async def main(parts: set[str], requests: int, levels: list[int], accounts: int, commands: int) -> None:
    await _wait_balancer()
    results = []
    if "http" in parts:
        results += await _http(requests, levels, accounts)
    if "commands" in parts:
        results.append(await _commands(commands, accounts))
    if "sql" in parts:
        results += await raw_balance_updates(
            f"raw UPDATE (autocommit), {accounts} rows", requests, levels, accounts, credits_too=True
        )
    if results:
        save("cuentas", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=concurrency_levels, default="1,16,64", help="comma-separated levels")
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--commands", type=int, default=5000, help="saga commands in the burst")
    parser.add_argument("--parts", default="http,commands,sql", help="which measurements to run")
    args = parser.parse_args()
    levels = args.concurrency
    asyncio.run(main(set(args.parts.split(",")), args.requests, levels, args.accounts, args.commands))
