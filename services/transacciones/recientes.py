"""Read-your-writes for the lists of a multi-instance deployment, asked of the other instances instead of scanned.

A transaction another instance answered a moment ago reaches this instance's list index (listing.py) as an event,
a little later. Until now each list request closed that gap by reading the whole in-progress collection, which
FerretDB 1.x decodes document by document (2-8 s a request while the demo seed ran, ~30% of FerretDB's CPU).
Now every instance keeps what it wrote in the last HORIZON seconds in memory (`Recientes`, a writer listener that
also sees the documents it adopts on taking a partition over), and a staff list asks each other instance that holds
saga partitions for it (`de_las_otras`). When that cannot be told for sure — a partition with no stored url, one
that changed hands within the horizon, a peer that does not answer — the caller scans as before.
"""

import asyncio
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from bson import ObjectId

from services.transacciones import reenvio
from services.transacciones.domain import Transaccion

HORIZON = 30.0
"""Seconds a write stays on offer: far beyond the listing feed's lag behind bank.transacciones.v1."""
PATH = "/transacciones/interno/recientes"
TIMEOUT = 2.0


class Recientes:
    """This instance's writes of the last `horizon` seconds, each in its latest state, as list rows."""

    def __init__(self, horizon: float = HORIZON) -> None:
        self._horizon = horizon
        self._rows: OrderedDict[ObjectId, tuple[float, Transaccion]] = OrderedDict()

    def on_written(self, doc: Transaccion) -> None:
        """Writer listener: every durable write and every adopted document."""
        now = time.monotonic()
        self._rows[doc.id] = (now, doc)
        self._rows.move_to_end(doc.id)
        self._prune(now)

    def filas(self) -> list[dict[str, Any]]:
        """The rows as JSON (what PATH answers)."""
        self._prune(time.monotonic())
        return [fila(doc) for _, doc in self._rows.values()]

    def _prune(self, now: float) -> None:
        while self._rows:
            at, _ = next(iter(self._rows.values()))
            if now - at <= self._horizon:
                return
            self._rows.popitem(last=False)


def fila(doc: Transaccion) -> dict[str, Any]:
    return {
        "_id": str(doc.id),
        "fecha": doc.fecha.isoformat(),
        "tipo": doc.tipo,
        "estado": doc.estado,
        "cuenta_origen_id": doc.cuenta_origen_id,
        "cuenta_destino_id": doc.cuenta_destino_id,
    }


def leida(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the store's scan yields it (listing.Listado.add_scanned)."""
    fecha = datetime.fromisoformat(row["fecha"])
    return row | {"_id": ObjectId(row["_id"]), "fecha": fecha if fecha.tzinfo else fecha.replace(tzinfo=UTC)}


class Peers(Protocol):
    async def otras(self, quietas_desde: datetime) -> set[str] | None:
        """ownership.Ownership.otras."""
        ...


async def de_las_otras(peers: Peers, authorization: str | None) -> list[dict[str, Any]] | None:
    """What the other instances wrote within the horizon (scan rows); None when a scan must answer instead."""
    if not authorization:
        return None
    urls = await peers.otras(datetime.now(UTC) - timedelta(seconds=HORIZON))
    if urls is None:
        return None
    headers = {"authorization": authorization, reenvio.FORWARDED: "1"}
    answers = await asyncio.gather(*(_ask(url + PATH, headers) for url in sorted(urls)))
    if any(a is None for a in answers):
        return None
    return [leida(row) for rows in answers if rows is not None for row in rows]


async def _ask(url: str, headers: dict[str, str]) -> list[dict[str, Any]] | None:
    try:
        r = await reenvio.http().get(url, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError:
        return None
    if r.status_code != 200:
        return None
    rows = r.json()
    return rows if isinstance(rows, list) else None
