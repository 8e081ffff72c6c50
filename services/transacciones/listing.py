"""An in-memory index of every transaction's list fields (fecha, id, tipo, estado, cuentas) that answers the list
endpoints: filter, newest-first order, total; only the page's documents are then read, by _id.

Why: FerretDB 1.x applies any filter but `_id` (and every sort) by decoding each document of the collection, so
GET /transacciones over the 20,000 demo transactions took 14 s a page (and its X-Total-Count as long again). Here a
page is a pass over small tuples (milliseconds) plus up to `limit` lookups by _id, which use the store's index.
On MongoDB the collection's own indexes do this job, so the service builds the index only on FerretDB 1.x.

It is filled by one scan at start-up (in the background; lists read the store until it is done) and then kept
current by the writer, which announces every durable write, and — for what other instances write — by their events
(listing_feed.py) plus, before each page, what the other instances wrote lately (recientes.py; a customer's list, or
one that cannot ask, looks at the small in-progress collection instead): read-your-writes. An estado only moves forward (PENDIENTE -> final), so these sources
may arrive in any order. Memory: an estimated ~250 bytes per transaction.
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
from services.transacciones.saga import ESTADOS_FINALES

log = logging.getLogger(__name__)

LIST_FIELDS = ("fecha", "tipo", "estado", "cuenta_origen_id", "cuenta_destino_id")


@dataclass(slots=True)
class Entrada:
    """One transaction's list fields; only `estado` ever changes (fecha, tipo and cuentas are set at creation)."""

    fecha: datetime
    id: ObjectId
    tipo: str
    estado: str
    origen: int | None
    destino: int | None

    @property
    def key(self) -> tuple[datetime, str]:
        """The repository's order, (fecha, _id) — newest first is this, descending."""
        return self.fecha, str(self.id)


class Listado:
    def __init__(self) -> None:
        self._by_id: dict[ObjectId, Entrada] = {}
        self._rows: list[Entrada] = []  # ascending by key; a key never changes, so a row never moves
        self.ready = False

    def __len__(self) -> int:
        return len(self._by_id)

    def on_written(self, doc: Transaccion) -> None:
        """Writer listener: the document's latest durable state."""
        self._put(
            Entrada(_stored(doc.fecha), doc.id, doc.tipo, doc.estado, doc.cuenta_origen_id, doc.cuenta_destino_id)
        )

    def on_event(self, data: dict[str, Any]) -> None:
        """A transacciones event's payload (TransaccionSolicitada: PENDIENTE; the final ones carry their estado)."""
        oid = ObjectId(data["id"])
        self._put(
            Entrada(
                _stored(datetime.fromisoformat(data["fecha"])),
                oid,
                data["tipo"],
                data.get("estado", "PENDIENTE"),
                data.get("cuenta_origen_id"),
                data.get("cuenta_destino_id"),
            )
        )

    def add_scanned(self, rows: Iterable[dict[str, Any]]) -> int:
        """Rows read by a scan; a final estado already known stays (it never changes)."""
        added = 0
        for raw in rows:
            if raw["_id"] not in self._by_id:
                added += 1
            self._put(
                Entrada(
                    _stored(raw["fecha"]),
                    raw["_id"],
                    raw["tipo"],
                    raw["estado"],
                    raw.get("cuenta_origen_id"),
                    raw.get("cuenta_destino_id"),
                )
            )
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
        log.info("listing index ready: %d transactions", len(self._by_id))

    async def build(self, scans: Callable[[], Iterable[AsyncIterator[dict[str, Any]]]], stop: asyncio.Event) -> None:
        """Worker loop: fill once (a failed scan raises; the supervisor calls again, fresh scans, kept rows stay),
        then stay until the process stops."""
        if not self.ready:
            await self.fill(scans())
        await stop.wait()

    def page(self, filtro: Filtro, skip: int, limit: int) -> tuple[list[ObjectId], int]:
        """The ids of one page, newest first, and how many match in all."""
        rows = self._rows
        # Rows are in fecha order: a date range is a slice. The other filters narrow it one comprehension each.
        lo = 0 if filtro.desde is None else bisect.bisect_left(rows, filtro.desde, key=_fecha)
        hi = len(rows) if filtro.hasta is None else bisect.bisect_right(rows, filtro.hasta, key=_fecha)
        selected = rows[lo:hi]
        if filtro.tipo is not None:
            selected = [e for e in selected if e.tipo == filtro.tipo]
        if filtro.estado is not None:
            selected = [e for e in selected if e.estado == filtro.estado]
        if (cuenta := filtro.cuenta_id) is not None:
            selected = [e for e in selected if e.origen == cuenta or e.destino == cuenta]
        if (cuentas := filtro.cuentas) is not None:
            selected = [e for e in selected if e.origen in cuentas or e.destino in cuentas]
        total = len(selected)
        newest = total - skip  # the page is selected[newest - limit : newest], read backwards
        return [e.id for e in reversed(selected[max(0, newest - limit) : max(0, newest)])], total

    def _put(self, entrada: Entrada) -> None:
        known = self._by_id.get(entrada.id)
        if known is not None:
            if known.estado not in ESTADOS_FINALES:  # PENDIENTE -> final, never back (sources arrive in any order)
                known.estado = entrada.estado
            return
        self._by_id[entrada.id] = entrada
        if not self._rows or self._rows[-1].key <= entrada.key:
            self._rows.append(entrada)  # the usual case: the newest transaction
        else:
            bisect.insort(self._rows, entrada, key=lambda e: e.key)


def _fecha(entrada: Entrada) -> datetime:
    return entrada.fecha


def _stored(fecha: datetime) -> datetime:
    """The instant as the store keeps it (BSON dates have milliseconds), so order and ranges agree with it."""
    return fecha.replace(microsecond=fecha.microsecond // 1000 * 1000)
