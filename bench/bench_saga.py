"""Benchmark of the money saga end to end: POST /transacciones (transfers) until each is final (COMPLETADA or
FALLIDA), at several concurrency levels (closed loop: each client sends its next transfer when the last is final),
then at a fixed arrival rate (open loop: a transfer starts every 1/rate s however many are in flight): completed
transfers per second and p50/p99/max latency from POST to final; and for each measurement the CPU every process of
the stack spent per completed transfer (bench/_cpu.py: /proc of supervisord's programs and their descendants).

For scale, in the same run: the raw rate of the single-row conditional balance update on the same MariaDB
(aiomysql, direct, autocommit) — the floor under any saga step — and the document store's own primitives as the
writer uses them (batched inserts, batched replaces by _id, on a scratch database).

Run: make bench BENCH=saga [BENCH_ARGS="..."]   (a throwaway stack of its own: bench/stack.sh), or on a running stack
     .venv/bin/python -m bench.bench_saga [--requests 2000] [--concurrency 1,16,64,128,256,512] [--accounts 100]
     [--rate 250 --duration 15] [--profile [--profile-level 64]]
--profile: after the curve, that closed-loop level (or the open loop with --profile-level 0) runs once more with py-spy
on every Python process of the stack: bench/results/flame-<program>.svg and .txt (collapsed stacks), top 3 frames.
Needs the stack, clientes, cuentas (both instances) and transacciones up. Creates bench clientes and accounts with
100,000,000.00 PEN each through the real APIs (hence the throwaway stack); scratch databases are dropped afterwards.
"""

import argparse
import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from pymongo import AsyncMongoClient, ReplaceOne

from bank.auth import bearer_auth
from bench._cpu import per_unit, print_table, supervisor_programs, this_stack
from bench._harness import RESULTS, concurrency_levels, measure, percentile, save
from bench._lote import lote
from bench._machine import machine_ms
from bench._profile import Profiler, print_top, python_programs
from bench._raw_mariadb import raw_balance_updates

CLIENTES = "http://127.0.0.1:8001"
CUENTAS = "http://127.0.0.1:8002"
TRANSACCIONES = "http://127.0.0.1:8004"
# /stats is per process: the balancer (8004) would answer from either instance, so the bench asks each one.
INSTANCES = {"transacciones-1": "http://127.0.0.1:8014", "transacciones-2": "http://127.0.0.1:8015"}
MONGO = "mongodb://127.0.0.1:27017/"
FINAL = {"COMPLETADA", "FALLIDA", "CANCELADA"}
# This checkout's stack (the copy's, under `make bench`): its supervisord tells which process is which program.
RUN = Path(__file__).resolve().parents[1] / ".run"
# MariaDB allows 500 connections (infra/bin/mariadb.sh) and the cuentas instances hold some: the raw UPDATE
# comparison stops at this concurrency.
RAW_MAX_CONCURRENCY = 256


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


CLIENT = "(bench client)"  # this process: not part of the stack's total, but on a 2-core box it competes for the cores


@contextlib.contextmanager
def stack_cpu() -> Iterator[dict[str, float]]:
    """Yields a dict that holds, after the block, the CPU ms each program of this checkout's stack used during it
    (empty when no supervisord of this checkout answers) and, as CLIENT, this process's own."""
    used: dict[str, float] = {}
    before = this_stack()
    client = time.process_time()
    yield used
    if before is not None:
        used.update(before.again().since(before))
    used[CLIENT] = round((time.process_time() - client) * 1000, 1)


def cpu_per_transfer(used: dict[str, float], completed: int) -> dict[str, float]:
    """CPU ms per completed transfer per program, "total" of the stack's, and the bench client's apart."""
    stack = {name: ms for name, ms in used.items() if name != CLIENT}
    shares = per_unit(stack, completed) if stack else {}
    if completed > 0:
        shares[CLIENT] = round(used.get(CLIENT, 0.0) / completed, 3)
    return shares


@contextlib.contextmanager
def profiling(enabled: bool) -> Iterator[Profiler | None]:
    """py-spy on every Python program of the stack for the block, when asked for."""
    if not enabled:
        yield None
        return
    try:
        programs = python_programs(supervisor_programs(RUN / "supervisor.sock"))
    except OSError as exc:
        print(f"--profile: no supervisord of this checkout answers ({exc}): nothing profiled")
        yield None
        return
    with Profiler(programs, RESULTS) as profiler:
        yield profiler


async def open_loop(
    transfer: Callable[[int], Awaitable[None]], *, rate: float, duration: float, drain: float
) -> dict[str, Any]:
    """One transfer started every 1/rate s for `duration` s, however many are still in flight (an open loop: the
    offered load does not slow down with the system, as real customers do not). Latency counts from the arrival's
    scheduled time, so a client that fell behind its schedule does not hide the wait (no coordinated omission).
    Transfers still running `drain` s after the last arrival are cancelled and counted as unfinished."""
    latencies: list[float] = []
    errors = 0
    error_samples: list[str] = []
    in_flight = max_in_flight = 0
    lag = 0.0
    started = last_done = time.perf_counter()

    async def arrival(i: int, due: float) -> None:
        nonlocal errors, in_flight, max_in_flight, last_done
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        try:
            await transfer(i)
        except Exception as exc:
            errors += 1
            if len(error_samples) < 3:
                error_samples.append(repr(exc)[:200])
        else:
            last_done = time.perf_counter()
            latencies.append((last_done - due) * 1000)
        finally:
            in_flight -= 1

    arrivals = max(1, round(rate * duration))
    tasks = []
    for i in range(arrivals):
        due = started + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        lag = max(lag, time.perf_counter() - due)
        tasks.append(asyncio.create_task(arrival(i, due)))
    _, pending = await asyncio.wait(tasks, timeout=drain)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    elapsed = (last_done if latencies else time.perf_counter()) - started
    return {
        "name": "saga open loop POST->final",
        "concurrency": f"{rate:g}/s open",
        "offered_rps": rate,
        "requests": arrivals,
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies, default=0.0), 2),
        "max_arrival_lag_ms": round(lag * 1000, 2),  # this client behind its schedule: its own share of the latency
        "errors": errors + len(pending),
        "unfinished": len(pending),
        "max_in_flight": max_in_flight,
        **({"error_samples": error_samples} if error_samples else {}),
    }


# httpx's pool scans its connections for every request it places (quadratic with thousands in flight): that cost,
# in this process, competed with the stack for the cores. Shards of this many connections keep each scan short.
SHARD = 64


@dataclass(frozen=True)
class Lote:
    """The /lote measurement: `transfers` in batches of `size`, `concurrency` batches in flight (0 transfers: none)."""

    transfers: int
    size: int
    concurrency: int


async def _saga(
    requests: int,
    levels: list[int],
    accounts: list[int],
    *,
    rate: float,
    duration: float,
    profile_level: int | None,
    lotes: Lote,
    prefer_wait: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The closed-loop curve, then the open loop (rate > 0), then /lote, then, with profile_level (0 = the open loop), that
    measurement once more with py-spy attached (so the samplers' CPU does not spoil the curve); each row with its
    CPU per completed transfer. Returns the rows and the profile's top frames."""
    # The open loop keeps up to rate x latency transfers in flight: room for them, beyond the curve's clients.
    pool = max(*levels, min(1024, int(rate * 4))) + 8
    limits = httpx.Limits(max_connections=SHARD, max_keepalive_connections=SHARD)
    async with contextlib.AsyncExitStack() as stack:
        shards = [
            await stack.enter_async_context(
                httpx.AsyncClient(auth=bearer_auth(), base_url=TRANSACCIONES, timeout=60, limits=limits)
            )
            for _ in range(-(-pool // SHARD))
        ]
        http = shards[0]
        # A client that can hold its connection asks for the wait (services/transacciones/prefer.py): one POST per
        # transfer instead of one more every 2 s while the saga runs.
        prefer = {"Prefer": f"wait={prefer_wait}"} if prefer_wait > 0 else {}
        resends: Counter[str] = (
            Counter()
        )  # what the client did per measurement: its cost is the bench's, not the stack's
        polls: Counter[str] = Counter()

        async def transfer(i: int) -> None:
            client = shards[i % len(shards)]
            a, b = random.sample(accounts, 2)
            body = {
                "tipo": "TRANSFERENCIA",
                "monto": "1.00",
                "moneda": "PEN",
                "cuentaOrigenId": a,
                "cuentaDestinoId": b,
            }
            key = {"Idempotency-Key": str(uuid.uuid4()), **prefer}
            while True:
                # 202 = still running after the server's wait: asking again with the same key waits again
                # (a long poll), instead of hammering GET.
                try:
                    r = await client.post("/transacciones", json=body, headers=key)
                except httpx.TransportError as exc:
                    # e.g. a keep-alive connection the server closed as it was reused: the key makes a resend safe.
                    # Counted, and not resent at once: a refused connection must not become a busy loop in this client.
                    resends[type(exc).__name__] += 1
                    await asyncio.sleep(0.05)
                    continue
                polls["202" if r.status_code == 202 else "final"] += 1
                # 409 with the transaction: the saga refused it (FALLIDA), reported below like any final state.
                if r.status_code not in (201, 202) and not (r.status_code == 409 and r.json().get("estado")):
                    raise RuntimeError(r.text)
                t = r.json()
                if t["estado"] in FINAL:
                    break
            if t["estado"] != "COMPLETADA":
                raise RuntimeError(t["motivo"])

        async def closed(c: int) -> dict[str, Any]:
            before = await instance_stats(http)
            n = requests if c > 1 else min(requests, 100)
            result = await measure("saga transfer POST->final", transfer, requests=n, concurrency=c)
            after = await instance_stats(http)
            done = max(1, result["requests"] - result["errors"])
            result["store_writes_per_transfer"] = round((total(after, "writes") - total(before, "writes")) / done, 2)
            result["store_rounds"] = total(after, "writer_rounds") - total(before, "writer_rounds")
            result["label"] = f"c={c}"
            return result

        async def opened() -> dict[str, Any]:
            result = await open_loop(transfer, rate=rate, duration=duration, drain=max(30.0, duration))
            result["label"] = f"{rate:g}/s open"
            return result

        async def with_cpu(run: Awaitable[dict[str, Any]]) -> dict[str, Any]:
            resends.clear()
            polls.clear()
            speed_before = machine_ms()
            with stack_cpu() as used:
                result = await run
            result["machine_ms"] = round((speed_before + machine_ms()) / 2, 1)
            result["client_posts"] = dict(polls)  # "202": long polls that ended still running
            result["client_resends"] = dict(resends)
            result["cpu_ms_per_transfer"] = cpu_per_transfer(used, result["requests"] - result["errors"])
            return result

        await measure("warm-up", transfer, requests=min(100, requests), concurrency=min(16, max(levels)))
        results = [await with_cpu(closed(c)) for c in levels]
        if rate > 0:
            results.append(await with_cpu(opened()))
        if lotes.transfers > 0:
            batches = lote(http, accounts, transfers=lotes.transfers, size=lotes.size, concurrency=lotes.concurrency)
            results.append(await with_cpu(batches))
        tops: dict[str, Any] = {}
        if profile_level is not None:
            with profiling(True) as profiler:
                result = await with_cpu(opened() if profile_level == 0 else closed(profile_level))
            result["name"] += " (py-spy attached)"
            result["label"] += " py-spy"
            results.append(result)
            tops = profiler.top() if profiler is not None else {}
        return results, tops


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


async def at_rest(seconds: float) -> dict[str, float]:
    """CPU ms per second each program of the stack spends with no request in flight: the fixed cost (pollers,
    consumers' fetches, heartbeats) every transfer's share shrinks from as load grows, and what caps it on 2 cores."""
    await asyncio.sleep(3)  # the accounts just opened: their events folded everywhere first
    with stack_cpu() as used:
        await asyncio.sleep(seconds)
    stack = {name: ms for name, ms in used.items() if name != CLIENT}
    shares = per_unit(stack, 1)
    return {name: round(ms / seconds, 1) for name, ms in shares.items()}


async def main(args: argparse.Namespace) -> None:
    levels: list[int] = args.concurrency
    profile_level = args.profile_level if args.profile else None
    if profile_level == 0 and args.rate <= 0:
        raise SystemExit("--profile-level 0 profiles the open loop: it needs --rate > 0")
    ids = await _accounts(args.accounts)
    idle = await at_rest(args.rest) if args.rest > 0 else {}
    if idle:
        print_table("CPU ms per second at rest (no request in flight; 1000 = one core)", {"at rest": idle})
    lotes = Lote(args.lote_transfers, args.lote_size, args.lote_concurrency)
    results, tops = await _saga(
        args.requests,
        levels,
        ids,
        rate=args.rate,
        duration=args.duration,
        profile_level=profile_level,
        lotes=lotes,
        prefer_wait=args.prefer_wait,
    )
    raw_levels = [c for c in levels if c <= RAW_MAX_CONCURRENCY] or [min(levels)]
    raw = await raw_balance_updates(
        "raw conditional UPDATE (MariaDB)", args.requests, raw_levels, args.accounts, credits_too=False
    )
    results += raw
    results += await _document_store(min(args.requests, 2000))
    best_saga = max(r["rps"] for r in results if r["name"].startswith("saga transfer"))
    best_raw = max(r["rps"] for r in raw)
    results.append(
        {"name": "ratio best saga transfers/s : best raw UPDATE/s", "rps": round(best_saga / best_raw, 4),
         "concurrency": "", "requests": "", "p50_ms": "", "p99_ms": "", "errors": ""}
    )  # fmt: skip
    cpu = {r["label"]: r["cpu_ms_per_transfer"] for r in results if "cpu_ms_per_transfer" in r}
    if any(cpu.values()):
        print_table("CPU ms per completed transfer (the stack's processes; the bench client apart)", cpu)
    if tops:
        print("py-spy top frames per process (share of its samples; flame graphs: bench/results/flame-*.svg)")
        print_top(tops)
    save("saga", results, {"cpu_ms_per_transfer": cpu, "cpu_ms_per_second_at_rest": idle, "profile_top_frames": tops})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="transfers per closed-loop level")
    parser.add_argument(
        "--concurrency", type=concurrency_levels, default="1,16,64,128,256,512", help="comma-separated levels"
    )
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--rate", type=float, default=250, help="open loop: transfers started per second (0: none)")
    parser.add_argument("--duration", type=float, default=15, help="open loop: seconds of arrivals")
    parser.add_argument("--lote-transfers", type=int, default=4000, help="transfers through /lote (0: none)")
    parser.add_argument("--lote-size", type=int, default=200, help="transfers per /lote request (at most 1000)")
    parser.add_argument("--lote-concurrency", type=int, default=4, help="/lote requests in flight")
    parser.add_argument(
        "--prefer-wait",
        type=int,
        default=15,
        help="seconds a POST asks the server to wait for the saga's end (Prefer: wait=N; 0: no header, the server's 2 s)",
    )
    parser.add_argument("--rest", type=float, default=10, help="seconds of CPU measured at rest first (0: none)")
    parser.add_argument("--profile", action="store_true", help="py-spy every Python process during one measurement")
    parser.add_argument(
        "--profile-level", type=int, default=64, help="the concurrency run again with py-spy; 0: the open loop"
    )
    asyncio.run(main(parser.parse_args()))
