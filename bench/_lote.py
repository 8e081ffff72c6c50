"""POST /transacciones/lote measured to the end of every saga: completed transfers/s from the first batch sent to
the last final event (TransaccionRegistrada / TransaccionFallida) on bank.transacciones.v1, which a group-less tail
of the topic reads here, so the client polls nothing (GETs would cost the stack it measures)."""

import asyncio
import contextlib
import json
import random
import time
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from bench._harness import percentile
from contracts import topics
from contracts.transacciones import TransaccionFallida, TransaccionRegistrada

KAFKA = "127.0.0.1:9092"
FINALES = {TransaccionRegistrada.type.encode(), TransaccionFallida.type.encode()}


class _Finales:
    """The time each transaction's final event was read (its `id`, the document id the batch answered with)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.grew = asyncio.Event()
        self.consumer = AIOKafkaConsumer(
            topics.TRANSACCIONES, bootstrap_servers=KAFKA, group_id=None, auto_offset_reset="latest"
        )

    async def start(self) -> None:
        await self.consumer.start()
        for tp in self.consumer.assignment():
            await self.consumer.position(tp)  # placed at the end before the first batch is sent

    async def tail(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100, max_records=5000)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    if dict(record.headers).get("ce_type") in FINALES and record.value is not None:
                        self.at.setdefault(str(json.loads(record.value)["id"]), now)
                        self.grew.set()


async def lote(
    client: httpx.AsyncClient,
    accounts: list[int],
    *,
    transfers: int,
    size: int,
    concurrency: int,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """`transfers` TRANSFERENCIAs of 1.00 between random accounts, `size` per POST /transacciones/lote (each item
    with its Idempotency-Key), `concurrency` batches in flight; latency = batch sent -> the item's final event."""
    finales = _Finales()
    await finales.start()
    sent: dict[str, float] = {}
    refused = 0

    async def batch(n: int, gate: asyncio.Semaphore) -> None:
        nonlocal refused
        items = []
        for _ in range(n):
            a, b = random.sample(accounts, 2)
            items.append(
                {"tipo": "TRANSFERENCIA", "monto": "1.00", "moneda": "PEN", "cuentaOrigenId": a, "cuentaDestinoId": b}
                | {"idempotency_key": str(uuid.uuid4())}
            )
        async with gate:
            at = time.perf_counter()
            r = await client.post("/transacciones/lote", json={"transacciones": items})
            r.raise_for_status()
        for item in r.json()["resultados"]:
            if 200 <= item["status"] < 300:
                sent[str(item["id"])] = at
            else:
                refused += 1

    tail = asyncio.create_task(finales.tail())
    try:
        started = time.perf_counter()
        gate = asyncio.Semaphore(concurrency)
        sizes = [size] * (transfers // size) + ([transfers % size] if transfers % size else [])
        await asyncio.gather(*(batch(n, gate) for n in sizes))
        deadline = started + timeout
        while not sent.keys() <= finales.at.keys() and time.perf_counter() < deadline:
            finales.grew.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finales.grew.wait(), deadline - time.perf_counter())
    finally:
        tail.cancel()
        await asyncio.gather(tail, return_exceptions=True)
        await finales.consumer.stop()
    done = [i for i in sent if i in finales.at]
    seconds = (max(finales.at[i] for i in done) - started) if done else float("inf")
    latencies = [(finales.at[i] - sent[i]) * 1000 for i in done]
    return {
        "name": f"saga via POST /transacciones/lote x{size} -> final event",
        "requests": len(sent) + refused,
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "rps": round(len(done) / seconds, 1) if done else 0.0,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies, default=0.0), 2),
        "errors": refused + len(sent) - len(done),
        "label": f"lote x{size}",
    }
