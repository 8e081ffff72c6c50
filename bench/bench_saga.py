"""Benchmark of the money saga end to end: POST /transacciones (transfers) until each is final (COMPLETADA or
FALLIDA), at several concurrency levels: completed transfers per second and p50/p99 latency from POST to final.

For scale, in the same run: the raw rate of the single-row conditional balance update on the same MariaDB
(aiomysql, direct, autocommit) — the floor under any saga step — and the document store's own primitives as the
writer uses them (batched inserts, batched replaces by _id, on a scratch database).

Run: .venv/bin/python -m bench.bench_saga [--requests 2000] [--concurrency 1,32,128,256] [--accounts 100]
Needs the stack, clientes, cuentas (both instances) and transacciones up. Creates one cliente and its accounts
through the real APIs; scratch databases are dropped afterwards.
"""

import argparse
import asyncio
import random
import time
import uuid
from typing import Any

import httpx
from bson import ObjectId
from pymongo import AsyncMongoClient, ReplaceOne

from bank.auth import bearer_auth
from bench._harness import concurrency_levels, measure, save
from bench._raw_mariadb import raw_balance_updates

CLIENTES = "http://127.0.0.1:8001"
CUENTAS = "http://127.0.0.1:8002"
TRANSACCIONES = "http://127.0.0.1:8004"
# /stats is per process: the balancer (8004) would answer from either instance, so the bench asks each one.
INSTANCES = {"transacciones-1": "http://127.0.0.1:8014", "transacciones-2": "http://127.0.0.1:8015"}
MONGO = "mongodb://127.0.0.1:27017/"
FINAL = {"COMPLETADA", "FALLIDA", "CANCELADA"}


ACCOUNTS_PER_CLIENTE = 2


async def instance_stats(http: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """GET /stats of every transacciones instance that answers (a stopped one is left out)."""
    found: dict[str, dict[str, Any]] = {}
    for name, url in INSTANCES.items():
        try:
            r = await http.get(f"{url}/stats")
        except httpx.TransportError:
            continue
        if r.status_code == 200:
            found[name] = r.json()
    return found


def total(stats: dict[str, dict[str, Any]], field: str) -> int:
    return sum(int(s[field]) for s in stats.values())


async def _accounts(count: int) -> list[int]:
    """`count` funded accounts, two per bench cliente: like real customers, so that no single perfil (which folds
    every movement of its cliente's accounts) becomes the hot spot of the measurement."""
    async with httpx.AsyncClient(auth=bearer_auth(), timeout=30) as http:
        ids: list[int] = []
        while len(ids) < count:
            u = uuid.uuid4().hex[:12]
            r = await http.post(
                f"{CLIENTES}/clientes",
                json={
                    "nombre": "Bench",
                    "apellido": f"Saga {u}",
                    "email": f"bench.saga.{u}@example.com",
                    "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"B{u.upper()}"},
                },
            )
            r.raise_for_status()
            body = {"cliente_id": r.json()["cliente_id"], "tipo_cuenta_id": 1, "saldo": "100000000.00"}
            opened = 0
            deadline = time.monotonic() + 60
            while opened < min(ACCOUNTS_PER_CLIENTE, count - len(ids)):
                r = await http.post(f"{CUENTAS}/cuentas", json=body)
                if r.status_code == 201:
                    ids.append(r.json()["cuenta_id"])
                    opened += 1
                elif time.monotonic() > deadline:
                    r.raise_for_status()
                else:
                    await asyncio.sleep(0.1)  # the replica learns of the cliente asynchronously
        return ids


async def _saga(requests: int, levels: list[int], accounts: list[int]) -> list[dict[str, Any]]:
    limits = httpx.Limits(max_connections=max(levels) + 8, max_keepalive_connections=max(levels) + 8)
    async with httpx.AsyncClient(auth=bearer_auth(), base_url=TRANSACCIONES, timeout=60, limits=limits) as http:
        completed = 0

        async def transfer(i: int) -> None:
            nonlocal completed
            a, b = random.sample(accounts, 2)
            body = {
                "tipo": "TRANSFERENCIA",
                "monto": "1.00",
                "moneda": "PEN",
                "cuentaOrigenId": a,
                "cuentaDestinoId": b,
            }
            key = {"Idempotency-Key": str(uuid.uuid4())}
            while True:
                # 202 = still running after the server's wait: asking again with the same key waits again
                # (a long poll), instead of hammering GET.
                try:
                    r = await http.post("/transacciones", json=body, headers=key)
                except httpx.TransportError:
                    # e.g. a keep-alive connection the server closed as it was reused: the key makes a resend safe
                    continue
                # 409 with the transaction: the saga refused it (FALLIDA), reported below like any final state.
                if r.status_code not in (201, 202) and not (r.status_code == 409 and r.json().get("estado")):
                    raise RuntimeError(r.text)
                t = r.json()
                if t["estado"] in FINAL:
                    break
            if t["estado"] != "COMPLETADA":
                raise RuntimeError(t["motivo"])
            completed += 1

        await measure("warm-up", transfer, requests=min(100, requests), concurrency=min(16, max(levels)))
        results = []
        for c in levels:
            before = await instance_stats(http)
            result = await measure(
                "saga transfer POST->final", transfer, requests=requests if c > 1 else min(requests, 100), concurrency=c
            )
            after = await instance_stats(http)
            done = max(1, result["requests"] - result["errors"])
            result["store_writes_per_transfer"] = round((total(after, "writes") - total(before, "writes")) / done, 2)
            result["store_rounds"] = total(after, "writer_rounds") - total(before, "writer_rounds")
            results.append(result)
        return results


def _doc(i: int) -> dict[str, Any]:
    """About the size of a transaction document with two pending events."""
    event: dict[str, Any] = {"event_id": str(uuid.uuid4()), "topic": "bank.cuentas.comandos.v1", "key": "12"}
    event |= {"payload": "p" * 350, "headers": [{"name": f"h{k}", "value": "v" * 36} for k in range(9)]}
    return {"_id": ObjectId(), "transaccion_id": f"TRX{i}", "estado": "PENDIENTE", "monto": "1.00",
            "saga": {"paso": "DEBITO", "comando_id": "x" * 30}, "outbox": [event, dict(event)]}  # fmt: skip


async def _document_store(requests: int) -> list[dict[str, Any]]:
    """The writer's two primitives on a scratch database: batched inserts and batched replaces by _id."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    coll = client[name]["t"]
    docs = [_doc(i) for i in range(requests)]
    batch = 25  # FerretDB 1.x deadlocks a database on a bulk update of ~100 statements (see repository.py)
    try:
        started = time.perf_counter()
        for k in range(0, requests, batch):
            await coll.insert_many(docs[k : k + batch], ordered=False)
        inserted = time.perf_counter() - started
        started = time.perf_counter()
        for k in range(0, requests, batch):
            await coll.bulk_write([ReplaceOne({"_id": d["_id"]}, d) for d in docs[k : k + batch]], ordered=False)
        replaced = time.perf_counter() - started
        started = time.perf_counter()
        for d in docs[:200]:
            await coll.replace_one({"_id": d["_id"]}, d)
        single = time.perf_counter() - started
    finally:
        await client.drop_database(name)
        await client.close()
    row = {"concurrency": 1, "requests": requests, "errors": 0, "p50_ms": "", "p99_ms": ""}
    return [
        row | {"name": f"doc store insert_many x{batch}", "rps": round(requests / inserted, 1)},
        row | {"name": f"doc store bulk replace by _id x{batch}", "rps": round(requests / replaced, 1)},
        row | {"name": "doc store replace_one by _id", "requests": 200, "rps": round(200 / single, 1)},
    ]


async def main(requests: int, levels: list[int], accounts: int) -> None:
    ids = await _accounts(accounts)
    results = await _saga(requests, levels, ids)
    raw = await raw_balance_updates("raw conditional UPDATE (MariaDB)", requests, levels, accounts, credits_too=False)
    results += raw
    results += await _document_store(min(requests, 2000))
    best_saga = max(r["rps"] for r in results if r["name"].startswith("saga"))
    best_raw = max(r["rps"] for r in raw)
    results.append(
        {"name": "ratio best saga transfers/s : best raw UPDATE/s", "rps": round(best_saga / best_raw, 4),
         "concurrency": "", "requests": "", "p50_ms": "", "p99_ms": "", "errors": ""}
    )  # fmt: skip
    save("saga", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=concurrency_levels, default="1,32,128,256", help="comma-separated levels")
    parser.add_argument("--accounts", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.accounts))
