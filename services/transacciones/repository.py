"""Storage of transaction documents on a MongoDB-wire store (FerretDB locally, MongoDB in production).

Three collections:
- `transacciones_en_curso`: documents whose saga runs or whose events are not all published yet. The writer
  updates these, by `_id` only. It stays small on purpose: FerretDB 1.x decodes the whole collection for any
  filter but `{_id: <string or ObjectId>}` (its SQLite backend's only pushdown), and the start-up recovery and
  (when the other instances cannot be asked, recientes.py) the lists' read-your-writes read this collection whole.
  (An earlier note here said every update scans; measured on FerretDB 1.24.2, 2026-12-06: replace_one by ObjectId
  `_id` 1.4 / 1.4 / 1.3 ms at 200 / 2,000 / 8,000 documents, a find on another field 16 / 163 / 597 ms.)
- `transacciones`: finished documents, never updated again (but in the rare rewrite of a final state's events);
  inserts and lookups by `_id` stay cheap however large it grows. The beanie Document declares it, its indexes,
  and serves the list queries. A final state goes here with the write that decides it, events and all; its
  in-progress copy, left as it was, marks events that may be unpublished until the write that finds them all
  published removes it. Where a document has both, this copy is the newer one. (One document write per transfer
  fewer than replacing the in-progress copy first and archiving it later.)
- `idempotencia`: one insert-only claim per Idempotency-Key (`_id` = the key), so a key is unique across both
  collections and claiming it is race-free.
"""

import asyncio
import heapq
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol

from beanie import Document, SortDirection
from bson import Decimal128, ObjectId
from pymongo import ASCENDING, DESCENDING, DeleteOne, IndexModel, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, WriteError

from contracts.money import format_money
from contracts.transacciones import EstadoTransaccion, TipoTransaccion
from services.transacciones import indexes
from services.transacciones.domain import Transaccion, archivable

DUPLICATE_KEY = 11000
# Most replaces per bulk write. FerretDB 1.x keeps every statement's read cursor (one SQLite connection each) open
# until the whole `update` command ends, and its pool has 100 connections: a bulk of ~100 updates deadlocks that
# database for good (found the hard way). Well below that. (Our build, infra/ferretdb/fastpath.patch, opens no
# cursor for a command of replacements or deletes by _id alone, and commits it once; the limit stays for any other
# FerretDB 1.x this may run on.)
REPLACE_CHUNK = 32
PENDING_LOOKUPS = 16  # archive lookups in flight while recovery reads the in-progress documents
IN_PROGRESS = "transacciones_en_curso"
CLAIMS = "idempotencia"
MoneyBson = Literal["decimal128", "string"]
NEWEST_FIRST = [("fecha", DESCENDING), ("_id", DESCENDING)]
FX_DECIMALS = ("monto_destino", "tasa", "ingreso", "ingreso_revertido")


class TransaccionDocument(Document, Transaccion):
    """The finished transactions' collection: its documents are domain.Transaccion's (the fields are inherited, not
    restated; `id` is beanie's `_id`, `monto` is stored as MoneyBson), and its indexes."""

    monto: Any  # type: ignore[assignment]  # Decimal128 or a decimal string, see MoneyBson; from_bson reads both

    class Settings:
        name = "transacciones"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel(NEWEST_FIRST, name="fecha"),
            IndexModel([("tipo", ASCENDING), *NEWEST_FIRST], name="tipo_fecha"),
            IndexModel([("estado", ASCENDING), *NEWEST_FIRST], name="estado_fecha"),
            IndexModel([("cuenta_origen_id", ASCENDING), *NEWEST_FIRST], name="origen_fecha"),
            IndexModel([("cuenta_destino_id", ASCENDING), *NEWEST_FIRST], name="destino_fecha"),
        ]


@dataclass(frozen=True)
class Filtro:
    """The list filters of GET /transacciones (all optional, combined with AND)."""

    tipo: TipoTransaccion | None = None
    estado: EstadoTransaccion | None = None
    cuenta_id: int | None = None
    desde: datetime | None = None
    hasta: datetime | None = None
    cuentas: frozenset[int] | None = None  # origen or destino among these (a customer's own accounts)

    def query(self) -> dict[str, Any]:
        q: dict[str, Any] = {}
        if self.tipo is not None:
            q["tipo"] = self.tipo
        if self.estado is not None:
            q["estado"] = self.estado
        if self.cuenta_id is not None:
            q["$or"] = [{"cuenta_origen_id": self.cuenta_id}, {"cuenta_destino_id": self.cuenta_id}]
        if self.cuentas is not None:
            own = {"$in": sorted(self.cuentas)}
            either = [{"cuenta_origen_id": own}, {"cuenta_destino_id": own}]
            if "$or" in q:
                q["$and"] = [{"$or": q.pop("$or")}, {"$or": either}]
            else:
                q["$or"] = either
        rango: dict[str, datetime] = {}
        if self.desde is not None:
            rango["$gte"] = self.desde
        if self.hasta is not None:
            rango["$lte"] = self.hasta
        if rango:
            q["fecha"] = rango
        return q


@dataclass(frozen=True)
class Claim:
    """Who holds an Idempotency-Key: the document created for it and the fingerprint of its request."""

    idem: str
    doc_id: ObjectId
    body_hash: str | None


class DuplicateIdem(Exception):
    """The document (or its idempotency key) already exists."""


def newest_first(doc: Transaccion) -> tuple[datetime, str]:
    return doc.fecha, str(doc.id)


class Repository(Protocol):
    """What the writer and the queries need from storage; tests use an in-memory fake."""

    async def load(self, ids: Sequence[ObjectId]) -> dict[ObjectId, Transaccion]: ...

    async def insert_many(self, docs: Sequence[Transaccion]) -> dict[int, Exception]:
        """Insert all it can; returns the failure of each index that failed (DuplicateIdem for a taken id)."""
        ...

    async def replace_many(self, docs: Sequence[Transaccion]) -> None:
        """Persist these states (an archivable one leaves the in-progress collection)."""
        ...

    async def claim_many(self, claims: Sequence[Claim]) -> list[Claim | None]:
        """Take each key for its document; per claim None when taken now, else the claim that already held it
        (an earlier claim of the same list included)."""
        ...

    async def pending(self) -> list[Transaccion]:
        """Documents with unpublished events or a saga in progress (start-up recovery)."""
        ...

    def list_scans(self, fields: Sequence[str]) -> list[AsyncIterator[dict[str, Any]]]:
        """Every stored transaction's `fields` and _id (the start-up scan of listing.Listado)."""
        ...

    async def page(self, filtro: Filtro, skip: int, limit: int) -> tuple[list[Transaccion], int]: ...

    async def ping(self) -> None: ...


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]], *, wanted: bool = True) -> list[str]:
    """The archive's list indexes: created when `wanted`, dropped when not (indexes.ensure); returns the names changed.
    (Not beanie's own index sync: on FerretDB 1.x it re-creates existing indexes, which drops the connection.)"""
    coll = db[TransaccionDocument.Settings.name]
    return await indexes.ensure(coll, TransaccionDocument.Settings.indexes, wanted=wanted)


async def detect_money_bson(db: AsyncDatabase[dict[str, Any]]) -> MoneyBson:
    """Decimal128 where the server has it; FerretDB 1.x does not (it drops the connection), so exact strings."""
    info = await db.command("buildInfo")
    version = str(info.get("ferretdbVersion", ""))
    return "string" if version.startswith("v1.") or version.startswith("1.") else "decimal128"


class MongoRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], money: MoneyBson) -> None:
        self._db = db
        self._archive: AsyncCollection[dict[str, Any]] = db[TransaccionDocument.Settings.name]
        self._live: AsyncCollection[dict[str, Any]] = db[IN_PROGRESS]
        self._claims: AsyncCollection[dict[str, Any]] = db[CLAIMS]
        self._money = money

    def to_bson(self, t: Transaccion) -> dict[str, Any]:
        doc = t.model_dump(mode="python", exclude={"archivada"})
        doc["_id"] = ObjectId(str(doc.pop("id")))
        doc["monto"] = Decimal128(format_money(t.monto)) if self._money == "decimal128" else format_money(t.monto)
        doc["outbox"] = list(t.outbox)
        for name in FX_DECIMALS:  # an FX transfer's: exact decimal strings whatever MoneyBson is (none is queried)
            if doc.get(name) is not None:
                doc[name] = str(doc[name])
        return doc

    @staticmethod
    def from_bson(raw: dict[str, Any], archivada: bool = False) -> Transaccion:
        data = dict(raw)
        data["id"] = data.pop("_id")
        data["archivada"] = archivada
        monto = data.get("monto")
        data["monto"] = monto.to_decimal() if isinstance(monto, Decimal128) else Decimal(str(monto))
        data.pop("revision_id", None)
        return Transaccion.model_validate(data)

    async def load(self, ids: Sequence[ObjectId]) -> dict[ObjectId, Transaccion]:
        # One find per id, concurrently: `{_id: {$in: [...]}}` is a collection scan on FerretDB 1.x.
        found = await asyncio.gather(*(self._load_one(i) for i in ids))
        return {i: doc for i, doc in zip(ids, found, strict=True) if doc is not None}

    async def _load_one(self, doc_id: ObjectId) -> Transaccion | None:
        # The archive first: where a document has both copies, the in-progress one is older. A document archived
        # and removed from in-progress between the two reads is in the archive at the third.
        if raw := await self._archive.find_one({"_id": doc_id}):
            return self.from_bson(raw, archivada=True)
        if raw := await self._live.find_one({"_id": doc_id}):
            return self.from_bson(raw)
        raw = await self._archive.find_one({"_id": doc_id})
        return self.from_bson(raw, archivada=True) if raw else None

    async def insert_many(self, docs: Sequence[Transaccion]) -> dict[int, Exception]:
        if not docs:
            return {}
        try:
            await self._live.insert_many([self.to_bson(d) for d in docs], ordered=False)
        except BulkWriteError as exc:
            failures: dict[int, Exception] = {}
            for err in exc.details.get("writeErrors", []):
                duplicate = err.get("code") == DUPLICATE_KEY
                failures[int(err["index"])] = (
                    DuplicateIdem() if duplicate else WriteError(err.get("errmsg"), err.get("code"), err)
                )
            return failures
        return {}

    async def replace_many(self, docs: Sequence[Transaccion]) -> None:
        """Running documents replace their in-progress copy; a final state not yet archived (`archivada`) is
        archived; an archived one with events is replaced there; one with nothing left to publish leaves
        in-progress. Archive first, then remove the in-progress copy: a crash in between leaves both, and the
        archive's is the one read (load, pending)."""
        await self._replace_chunks(self._live, [d for d in docs if not d.final])
        first = [d for d in docs if d.final and not d.archivada]
        if first:
            try:
                await self._archive.insert_many([self.to_bson(d) for d in first], ordered=False)
            except BulkWriteError as exc:  # archived already by a write whose outcome was not known (a retry)
                if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                    raise
        await self._replace_chunks(self._archive, [d for d in docs if d.final and d.archivada and d.outbox])
        done = [d for d in docs if archivable(d)]
        # One delete command per chunk, executed in order on one connection: concurrent single deletes made
        # SQLite writers wait on each other's locks (128/s measured, against 456/s this way).
        for start in range(0, len(done), REPLACE_CHUNK):
            chunk = done[start : start + REPLACE_CHUNK]
            await self._live.bulk_write([DeleteOne({"_id": d.id}) for d in chunk], ordered=False)

    async def _replace_chunks(self, coll: AsyncCollection[dict[str, Any]], docs: Sequence[Transaccion]) -> None:
        for start in range(0, len(docs), REPLACE_CHUNK):
            chunk = docs[start : start + REPLACE_CHUNK]
            await coll.bulk_write([ReplaceOne({"_id": d.id}, self.to_bson(d)) for d in chunk], ordered=False)

    async def claim_many(self, claims: Sequence[Claim]) -> list[Claim | None]:
        if not claims:
            return []
        taken: set[int] = set()
        try:
            await self._claims.insert_many(
                [{"_id": c.idem, "doc_id": c.doc_id, "body_hash": c.body_hash} for c in claims], ordered=False
            )
        except BulkWriteError as exc:
            for err in exc.details.get("writeErrors", []):
                if err.get("code") != DUPLICATE_KEY:
                    raise
                taken.add(int(err["index"]))
        results: list[Claim | None] = []
        for index, claim in enumerate(claims):
            if index not in taken:
                results.append(None)
                continue
            # A key already held is a retry: rare, and a lookup by _id is the one query FerretDB answers by index.
            raw = await self._claims.find_one({"_id": claim.idem})
            if raw is None:  # claims are never deleted
                raise WriteError(f"claim {claim.idem} refused as a duplicate but not found", DUPLICATE_KEY)
            results.append(Claim(claim.idem, raw["doc_id"], raw.get("body_hash")))
        return results

    async def pending(self) -> list[Transaccion]:
        # Everything in the live collection is pending work by definition (and the collection is small); a final
        # state is read from the archive (by _id, the lookup FerretDB answers by index), a few at a time.
        live = [raw async for raw in self._live.find({})]
        archived = await self._archived([raw["_id"] for raw in live])
        return [
            self.from_bson(archived[raw["_id"]], archivada=True) if raw["_id"] in archived else self.from_bson(raw)
            for raw in live
        ]

    async def _archived(self, ids: Sequence[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
        """The archive's copies of these documents: one lookup by _id each, a few in flight (`{_id: {$in: …}}` is a
        collection scan on FerretDB 1.x)."""
        slots = asyncio.Semaphore(PENDING_LOOKUPS)

        async def one(doc_id: ObjectId) -> dict[str, Any] | None:
            async with slots:
                return await self._archive.find_one({"_id": doc_id})

        found = await asyncio.gather(*(one(i) for i in ids))
        return {i: raw for i, raw in zip(ids, found, strict=True) if raw is not None}

    def list_scans(self, fields: Sequence[str]) -> list[AsyncIterator[dict[str, Any]]]:
        """Every stored transaction's `fields` (and _id): the live collection, then the archive. A document may
        appear in both, its in-progress copy the older (listing.Listado moves an estado only forward)."""
        projection = dict.fromkeys(fields, 1)
        return [self._live.find({}, projection), self._archive.find({}, projection)]

    async def page(self, filtro: Filtro, skip: int, limit: int) -> tuple[list[Transaccion], int]:
        query = filtro.query()
        raws = [raw async for raw in self._live.find(query)]
        # An in-progress copy whose document is archived is older than the archive's, which the query below judges.
        archived_ids = set(await self._archived([raw["_id"] for raw in raws]))
        live = sorted(
            [self.from_bson(raw) for raw in raws if raw["_id"] not in archived_ids], key=newest_first, reverse=True
        )
        sort = [(name, SortDirection(direction)) for name, direction in NEWEST_FIRST]
        # With live matches the window is cut after merging; otherwise the store pages the archive itself.
        window = (skip, limit) if not live else (0, skip + limit)
        docs = await TransaccionDocument.find(query, skip=window[0], limit=window[1], sort=sort).to_list()
        archived = [self.from_bson(d.model_dump(by_alias=True, exclude={"revision_id"})) for d in docs]
        total = await TransaccionDocument.find(query).count()
        if not live:
            return archived, total
        both = {d.id for d in archived} & {d.id for d in live}  # archived between the two reads: the archive's
        merged = heapq.merge([d for d in live if d.id not in both], archived, key=newest_first, reverse=True)
        return list(merged)[skip : skip + limit], total + len(live) - len(both)

    async def ping(self) -> None:
        await self._db.command("ping")
