"""An in-memory index of every transaction's list fields (fecha, id, tipo, estado, cuentas) that answers the list
endpoints: filter, newest-first order, total; only the page's documents are then read, by _id.

Why: FerretDB 1.x applies any filter but `_id` (and every sort) by decoding each document of the collection, so
GET /transacciones over the 20,000 demo transactions took 14 s a page (and its X-Total-Count as long again). Here a
page is a pass over small tuples (milliseconds) plus up to `limit` lookups by _id, which use the store's index.
On MongoDB the collection's own indexes do this job, so the service builds the index only on FerretDB 1.x.

It is filled by one scan at start-up (in the background; lists read the store until it is done) and then kept
current by the writer, which announces every durable write. Assumption, as for the writer: one process per
database. Memory: ~250 bytes per transaction.
"""

import asyncio
import bisect
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId

from services.transacciones.domain import Transaccion
from services.transacciones.repository import Filtro

log = logging.getLogger(__name__)

LIST_FIELDS = ("fecha", "tipo", "estado", "cuenta_origen_id", "cuenta_destino_id")


@dataclass(frozen=True, slots=True)
class Entrada:
    tipo: str
    estado: str
    origen: int | None
    destino: int | None
    fecha: datetime

    def matches(self, f: Filtro) -> bool:
        return (
            (f.tipo is None or self.tipo == f.tipo)
            and (f.estado is None or self.estado == f.estado)
            and (f.cuenta_id is None or f.cuenta_id in (self.origen, self.destino))
            and (f.desde is None or self.fecha >= f.desde)
            and (f.hasta is None or self.fecha <= f.hasta)
        )


OrderKey = tuple[datetime, str]  # (fecha, str(_id)): the repository's newest-first order, reversed


class Listado:
    def __init__(self) -> None:
        self._entries: dict[ObjectId, Entrada] = {}
        self._order: list[OrderKey] = []  # ascending; fecha never changes, so a key never moves
        self._ids: dict[str, ObjectId] = {}
        self.ready = False

    def __len__(self) -> int:
        return len(self._entries)

    def on_written(self, doc: Transaccion) -> None:
        """Writer listener: the document's latest durable state."""
        entrada = Entrada(doc.tipo, doc.estado, doc.cuenta_origen_id, doc.cuenta_destino_id, _stored(doc.fecha))
        self._put(doc.id, entrada)

    def add_scanned(self, rows: Iterable[dict[str, Any]]) -> int:
        """Rows read by the start-up scan; a document the writer announced meanwhile is newer and stays."""
        added = 0
        for raw in rows:
            doc_id = raw["_id"]
            if doc_id not in self._entries:
                entrada = Entrada(
                    raw["tipo"],
                    raw["estado"],
                    raw.get("cuenta_origen_id"),
                    raw.get("cuenta_destino_id"),
                    _stored(raw["fecha"]),
                )
                self._put(doc_id, entrada)
                added += 1
        return added

    async def fill(self, scans: Iterable[AsyncIterator[dict[str, Any]]], batch: int = 1000) -> None:
        """Take in everything the scans yield (projections of LIST_FIELDS), then start answering."""
        for scan in scans:
            rows: list[dict[str, Any]] = []
            async for raw in scan:
                rows.append(raw)
                if len(rows) >= batch:
                    self.add_scanned(rows)
                    rows = []
            self.add_scanned(rows)
        self.ready = True
        log.info("listing index ready: %d transactions", len(self._entries))

    async def build(self, scans: Callable[[], Iterable[AsyncIterator[dict[str, Any]]]], stop: asyncio.Event) -> None:
        """Worker loop: fill once (a failed scan raises; the supervisor calls again, fresh scans, kept rows stay),
        then stay until the process stops."""
        if not self.ready:
            await self.fill(scans())
        await stop.wait()

    def page(self, filtro: Filtro, skip: int, limit: int) -> tuple[list[ObjectId], int]:
        """The ids of one page, newest first, and how many match in all."""
        ids: list[ObjectId] = []
        total = 0
        for _, key in reversed(self._order):
            doc_id = self._ids[key]
            if self._entries[doc_id].matches(filtro):
                if skip <= total < skip + limit:
                    ids.append(doc_id)
                total += 1
        return ids, total

    def _put(self, doc_id: ObjectId, entrada: Entrada) -> None:
        previous = self._entries.get(doc_id)
        self._entries[doc_id] = entrada
        if previous is None:
            key = (entrada.fecha, str(doc_id))
            self._ids[key[1]] = doc_id
            if not self._order or self._order[-1] <= key:
                self._order.append(key)  # the usual case: the newest transaction
            else:
                bisect.insort(self._order, key)


def _stored(fecha: datetime) -> datetime:
    """The instant as the store keeps it (BSON dates have milliseconds), so order and ranges agree with it."""
    return fecha.replace(microsecond=fecha.microsecond // 1000 * 1000)
