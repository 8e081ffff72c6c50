"""In-memory stand-ins for the document store and the broker, for the writer/outbox/service unit tests."""

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from producers.outbox_row import OutboxRow
from services.transacciones import saga
from services.transacciones.domain import Transaccion, archivable
from services.transacciones.outbox import DocumentOutbox
from services.transacciones.repository import Claim, DuplicateIdem, Filtro
from services.transacciones.reversion_store import Intento
from services.transacciones.service import Finales, TransaccionesService
from services.transacciones.sweeper import Sweeper
from services.transacciones.writer import DocumentWriter


class FakeRepository:
    """A dict of documents with the repository's semantics (proven by tests/contract/transacciones.py)."""

    def __init__(self) -> None:
        self.docs: dict[ObjectId, Transaccion] = {}  # each document as last written (what the tests look at)
        self.claims: dict[str, Claim] = {}
        self.replaced: list[ObjectId] = []
        self.archive: dict[ObjectId, Transaccion] = {}  # final states: the real one keeps these in another collection
        self.settled: set[ObjectId] = set()  # nothing left to publish: out of the in-progress collection
        self.archive_inserts: list[ObjectId] = []  # final states written to the archive for the first time
        self.fail_next_write: Exception | None = None
        self.lose_next_ack: Exception | None = None  # the next replace lands, then fails as if its answer was lost
        self.round_trips = 0
        self.claim_writes = 0

    async def load(self, ids: Sequence[ObjectId]) -> dict[ObjectId, Transaccion]:
        await asyncio.sleep(0)
        return {i: self._read(i) for i in ids if i in self.docs}

    def _read(self, doc_id: ObjectId) -> Transaccion:
        archived = self.archive.get(doc_id)
        return archived.model_copy(update={"archivada": True}) if archived is not None else self.docs[doc_id]

    async def insert_many(self, docs: Sequence[Transaccion]) -> dict[int, Exception]:
        self.round_trips += 1
        await asyncio.sleep(0)
        failures: dict[int, Exception] = {}
        for index, doc in enumerate(docs):
            if doc.id in self.docs:
                failures[index] = DuplicateIdem()
            else:
                self.docs[doc.id] = doc
        return failures

    async def replace_many(self, docs: Sequence[Transaccion]) -> None:
        self.round_trips += 1
        await asyncio.sleep(0)
        if self.fail_next_write is not None:
            exc, self.fail_next_write = self.fail_next_write, None
            raise exc
        for doc in docs:
            self.docs[doc.id] = doc.model_copy(update={"archivada": False})  # not stored
            self.replaced.append(doc.id)
            if doc.final and not doc.archivada:
                self.archive_inserts.append(doc.id)
                self.archive.setdefault(doc.id, self.docs[doc.id])  # a retried insert keeps the first
            elif doc.final and doc.outbox:
                self.archive[doc.id] = self.docs[doc.id]
            if archivable(doc):
                self.settled.add(doc.id)
        if self.lose_next_ack is not None:
            exc, self.lose_next_ack = self.lose_next_ack, None
            raise exc

    async def claim_many(self, claims: Sequence[Claim]) -> list[Claim | None]:
        self.claim_writes += 1
        await asyncio.sleep(0)
        results: list[Claim | None] = []
        for claim in claims:
            results.append(self.claims.get(claim.idem))
            self.claims.setdefault(claim.idem, claim)
        return results

    async def pending(self) -> list[Transaccion]:
        return [self._read(i) for i in self.docs if i not in self.settled]

    def list_scans(self, fields: Sequence[str]) -> list[AsyncIterator[dict[str, Any]]]:
        async def scan() -> AsyncIterator[dict[str, Any]]:
            for doc in list(self.docs.values()):
                yield {"_id": doc.id} | doc.model_dump(include=set(fields))

        return [scan()]

    async def page(self, filtro: Filtro, skip: int, limit: int) -> tuple[list[Transaccion], int]:
        found = sorted(
            (d for d in self.docs.values() if _matches(filtro, d)), key=lambda d: (d.fecha, str(d.id)), reverse=True
        )
        return found[skip : skip + limit], len(found)

    async def ping(self) -> None:
        return None


def _matches(f: Filtro, d: Transaccion) -> bool:
    """Filtro.query() as the store evaluates it."""
    return (
        (f.tipo is None or d.tipo == f.tipo)
        and (f.estado is None or d.estado == f.estado)
        and (f.cuenta_id is None or f.cuenta_id in (d.cuenta_origen_id, d.cuenta_destino_id))
        and (f.desde is None or d.fecha >= f.desde)
        and (f.hasta is None or d.fecha <= f.hasta)
    )


class FakeReversiones:
    """The reversal attempts as a dict keyed like the real `_id` (insert-only, first claim wins)."""

    def __init__(self) -> None:
        self.intentos: dict[tuple[ObjectId, int], Intento] = {}

    async def reclamar(self, intento: Intento) -> ObjectId | None:
        await asyncio.sleep(0)
        held = self.intentos.setdefault((intento.original, intento.n), intento)
        return None if held is intento else held.doc_id

    async def de(self, originals: Sequence[ObjectId]) -> dict[ObjectId, list[Intento]]:
        await asyncio.sleep(0)
        found: dict[ObjectId, list[Intento]] = {}
        for (original, _), intento in sorted(self.intentos.items(), key=lambda kv: kv[0][1]):
            if original in originals:
                found.setdefault(original, []).append(intento)
        return found


@dataclass
class Broker:
    """Collects what the relay publishes; can be told to fail."""

    rows: list[OutboxRow] = field(default_factory=list)
    down: bool = False

    async def publish(self, rows: Sequence[OutboxRow]) -> None:
        await asyncio.sleep(0)
        if self.down:
            raise ConnectionError("broker away")
        self.rows.extend(rows)

    def commands(self) -> list[dict[str, Any]]:
        return [json.loads(r.payload) for r in self.rows if r.topic == "bank.cuentas.comandos.v1"]

    def types(self) -> list[str]:
        return [dict(r.headers)["ce_type"].split(".")[2] for r in self.rows]


@dataclass
class Env:
    repo: FakeRepository
    writer: DocumentWriter
    outbox: DocumentOutbox
    service: TransaccionesService
    sweeper: Sweeper
    broker: Broker
    reversiones: FakeReversiones

    async def relay_once(self) -> int:
        return await self.outbox.relay_batch(1000, self.broker.publish)

    async def reply(self, doc_id: ObjectId, respuesta: saga.Respuesta) -> None:
        doc = self.writer.latest(doc_id)
        assert doc is not None
        await self.service.aplicar_respuesta(doc.transaccion_id, respuesta, "causa")


@asynccontextmanager
async def environment(
    *,
    wait_seconds: float = 1.0,
    fold_seconds: float = 0.05,
    stuck_after: float = 10.0,
    epoch: str = "e1",
    repo: FakeRepository | None = None,
) -> AsyncIterator[Env]:
    repo = repo or FakeRepository()
    writer = DocumentWriter(repo)
    outbox = DocumentOutbox(writer, fold_seconds=fold_seconds, idle_wait=0.01, epoch=epoch)
    finales = Finales()
    writer.subscribe(finales.on_written)
    reversiones = FakeReversiones()
    service = TransaccionesService(writer, outbox, finales, wait_seconds, reversiones=reversiones)
    sweeper = Sweeper(service, stuck_after=stuck_after, max_interval=300)
    stop = asyncio.Event()
    task = asyncio.create_task(writer.run(stop))
    try:
        yield Env(repo, writer, outbox, service, sweeper, Broker(), reversiones)
    finally:
        stop.set()
        await asyncio.wait_for(task, 2)


class Particiones:
    """The `particiones` rows an Ownership reads (find_one by partition, or all of them)."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}

    async def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        return self.rows.get(query["_id"])

    async def find(self, query: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        assert query == {}, "only the whole collection is read"
        for row in list(self.rows.values()):
            yield row
