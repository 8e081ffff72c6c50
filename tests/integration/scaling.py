"""Test-side view of the partition-parallel consumers of the running stack (perfil and the lake sink): which
partitions each instance holds, Kafka's offsets and event ids over a range, and a steady load of transactions
that keeps every domain topic moving while an instance is killed."""

import asyncio
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from consumers.reader import make_reader, read_range, topic_partitions
from contracts.topics import DOMAIN_TOPICS
from tests.integration import stack
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA, URLS

Offsets = dict[TopicPartition, int]
_LAG = re.compile(r"^cloudbank_consumer_lag\{(?P<labels>[^}]*)\} ", re.M)


async def held_partitions(metrics_url: str, group: str) -> set[TopicPartition]:
    """The partitions an instance holds in `group`, from the lag series its /metrics reports for each of them."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(metrics_url)).text
    held = set()
    for match in _LAG.finditer(text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        if labels.get("group") == group:
            held.add(TopicPartition(labels["topic"], int(labels["partition"])))
    return held


async def end_offsets(topics: tuple[str, ...] = DOMAIN_TOPICS) -> Offsets:
    reader = make_reader(KAFKA)
    await reader.start()
    try:
        tps = await topic_partitions(reader, *topics)
        ends: Offsets = await reader.end_offsets(tps)
        return ends
    finally:
        await reader.stop()


async def committed(group: str) -> Offsets:
    """The offsets `group` committed to Kafka."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group)
        return {tp: meta.offset for tp, meta in found.items() if meta is not None and meta.offset >= 0}
    finally:
        await admin.close()


@dataclass
class KafkaIds:
    """What Kafka holds between two offset maps: how many records, and how many times each event id."""

    records: int = 0
    ids: Counter[str] = field(default_factory=Counter)

    @property
    def copies(self) -> int:
        return self.records - len(self.ids)


async def kafka_ids(starts: Offsets, stops: Offsets) -> KafkaIds:
    out = KafkaIds()
    reader = make_reader(KAFKA)
    await reader.start()
    try:
        async for record in read_range(reader, {tp: starts.get(tp, 0) for tp in stops}, stops):
            out.records += 1
            headers = dict(record.headers or ())
            if "ce_id" in headers:
                out.ids[headers["ce_id"].decode()] += 1
    finally:
        await reader.stop()
    return out


def program(prefix: str) -> str:
    """The first supervised program named `prefix` or `prefix-<n>` (transacciones may run as one or several)."""
    names = [line.split(" ", 1)[0] for line in stack.supervisorctl("status").splitlines() if line.strip()]
    for name in sorted(names):
        short = name.split(":", 1)[-1]
        if short == prefix or re.fullmatch(rf"{re.escape(prefix)}-\d+", short):
            return name
    raise AssertionError(f"no program {prefix}: {names}")


async def wait_until(probe: Any, *, timeout: float, interval: float = 0.2) -> float | None:
    """Seconds until `probe()` is truthy (None if it never was within `timeout`)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if await probe():
            return time.monotonic() - start
        await asyncio.sleep(interval)
    return None


@dataclass
class Load:
    """Deposits and transfers among a few accounts, each POST with an Idempotency-Key and retried until answered,
    so the sagas publish on every domain topic while services are being killed."""

    http: httpx.AsyncClient
    cuentas: list[int]
    posted: list[str] = field(default_factory=list)
    failures: int = 0

    async def one(self, n: int) -> None:
        origen, destino = self.cuentas[n % len(self.cuentas)], self.cuentas[(n + 1) % len(self.cuentas)]
        body: dict[str, Any] = {"tipo": "DEPOSITO", "monto": "5.00", "moneda": "PEN", "cuentaDestinoId": destino}
        if n % 3 == 0:
            body = {"tipo": "TRANSFERENCIA", "monto": "1.00", "moneda": "PEN"}
            body |= {"cuentaOrigenId": origen, "cuentaDestinoId": destino}
        key = str(uuid.uuid4())
        deadline = time.monotonic() + 120
        while True:
            try:
                r = await self.http.post(
                    "http://127.0.0.1:8004/transacciones",
                    json=body,
                    headers={"Idempotency-Key": key},
                )
                if r.status_code in (201, 202, 409):
                    self.posted.append(str(r.json()["id"]))
                    return
            except httpx.TransportError:
                pass
            self.failures += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"POST /transacciones not answered within 120 s: {body}")
            await asyncio.sleep(0.3)

    async def run(self, stop: asyncio.Event, writers: int = 4) -> None:
        counter = iter(range(1_000_000))

        async def writer() -> None:
            while not stop.is_set():
                await self.one(next(counter))

        await asyncio.gather(*(writer() for _ in range(writers)))

    async def wait_final(self, timeout: float = 240) -> None:
        pending = set(self.posted)

        async def done() -> bool:
            for trx_id in list(pending):
                try:
                    r = await self.http.get(f"http://127.0.0.1:8004/transacciones/{trx_id}")
                except httpx.TransportError:
                    return False
                if r.status_code == 200 and r.json()["estado"] in ("COMPLETADA", "FALLIDA", "CANCELADA"):
                    pending.discard(trx_id)
            return not pending

        if await wait_until(done, timeout=timeout, interval=1.0) is None:
            raise AssertionError(f"{len(pending)} transactions still not final after {timeout}s")


@asynccontextmanager
async def running(load: Load, writers: int = 4) -> AsyncIterator[asyncio.Event]:
    """The load runs inside; on exit it stops and every POST in flight is answered."""
    stop = asyncio.Event()
    task = asyncio.create_task(load.run(stop, writers))
    try:
        yield stop
    finally:
        stop.set()
        await task


async def open_accounts(n: int) -> list[int]:
    """A new cliente with `n` PEN accounts of 1000.00 (through clientes and cuentas), for the load."""
    from tests.integration.perfil.conftest import Bank, RetryingTransport  # the owners' REST helpers

    names = ("clientes", "cuentas", "transacciones", "perfil")
    clients = {
        n: httpx.AsyncClient(auth=Bearer(), base_url=URLS[n], timeout=60, transport=RetryingTransport()) for n in names
    }
    try:
        bank = Bank(clients)
        cliente = await bank.nuevo_cliente("Escala")
        return [(await bank.abrir_cuenta(cliente["cliente_id"], "1000.00", "PEN"))["cuenta_id"] for _ in range(n)]
    finally:
        for client in clients.values():
            await client.aclose()
