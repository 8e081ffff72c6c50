"""Read-your-writes for the lists of a multi-instance deployment, asked of the other instances instead of scanned.

A transaction another instance answered a moment ago reaches this instance's list index (listing.py) as an event,
a little later. Until now each list request closed that gap by reading the whole in-progress collection, which
FerretDB 1.x decodes document by document (2-8 s a request while the demo seed ran, ~30% of FerretDB's CPU).
Now every instance keeps what it wrote in the last HORIZON seconds in memory (`Recientes`, a writer listener that
also sees the documents it adopts on taking a partition over), and a staff list asks each other instance that holds
saga partitions for it (`Vecinas.de_las_otras`). When that cannot be told for sure — a partition with no stored url,
one that changed hands within the horizon, a peer that does not answer — the caller scans as before.

Only what is new since the last ask: every write gets the next number of its instance, and an instance remembers,
per peer, the last number it merged into its list index (which keeps what it merged). Why: under load the horizon
holds ~15,000 writes, and a list asked each second (the seed's wait for its sagas) cost each instance 4-8% of its
CPU to render, send, parse and merge them all again. A peer that restarted numbers afresh under a new `instancia`
token, and is then asked for everything.
"""

import asyncio
import time
import uuid
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
        self.instancia = uuid.uuid4().hex  # this process's numbering of its writes
        self._seq = 0
        # in write order, so numbers grow along it (a rewrite moves to the end with a new number)
        self._rows: OrderedDict[ObjectId, tuple[float, int, Transaccion]] = OrderedDict()

    def on_written(self, doc: Transaccion) -> None:
        """Writer listener: every durable write and every adopted document."""
        now = time.monotonic()
        self._seq += 1
        self._rows[doc.id] = (now, self._seq, doc)
        self._rows.move_to_end(doc.id)
        self._prune(now)

    def filas(self, despues: int = 0) -> list[dict[str, Any]]:
        """The rows as JSON, of the writes numbered after `despues` (0: all of them), oldest first."""
        self._prune(time.monotonic())
        nuevas: list[Transaccion] = []
        for _, seq, doc in reversed(self._rows.values()):
            if seq <= despues:
                break
            nuevas.append(doc)
        return [fila(doc) for doc in reversed(nuevas)]

    def desde(self, instancia: str, despues: int) -> dict[str, Any]:
        """What PATH answers an asker that has merged this instance's writes up to `despues` of `instancia` (another
        token: this process restarted since, so everything)."""
        return {
            "instancia": self.instancia,
            "hasta": self._seq,
            "filas": self.filas(despues if instancia == self.instancia else 0),
        }

    def _prune(self, now: float) -> None:
        while self._rows:
            at, _, _ = next(iter(self._rows.values()))
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


class Vecinas:
    """What the other instances wrote lately, asked of them: per peer url, the (instancia, number) up to which its
    writes are already merged here."""

    def __init__(self) -> None:
        self._vistas: dict[str, tuple[str, int]] = {}

    async def de_las_otras(self, peers: Peers, authorization: str | None) -> list[dict[str, Any]] | None:
        """What the other instances wrote within the horizon and not yet returned here (scan rows); None when a
        scan must answer instead. The caller merges the rows before its next await: the numbers move on here."""
        if not authorization:
            return None
        urls = await peers.otras(datetime.now(UTC) - timedelta(seconds=HORIZON))
        if urls is None:
            return None
        headers = {"authorization": authorization, reenvio.FORWARDED: "1"}
        ordered = sorted(urls)
        answers = await asyncio.gather(*(_ask(url + PATH, headers, self._vistas.get(url)) for url in ordered))
        answered = [a for a in answers if a is not None]
        if len(answered) < len(answers):
            return None
        rows: list[dict[str, Any]] = []
        for url, (filas, vista) in zip(ordered, answered, strict=True):
            rows += (leida(row) for row in filas)
            if vista is None:
                self._vistas.pop(url, None)
            else:
                self._vistas[url] = vista
        return rows


async def _ask(
    url: str, headers: dict[str, str], vista: tuple[str, int] | None
) -> tuple[list[dict[str, Any]], tuple[str, int] | None] | None:
    """(rows, the peer's (instancia, number) they reach) from one peer; None when it does not answer as expected.
    A peer of an older version answers a plain list of everything (no number)."""
    instancia, despues = vista or ("", 0)
    try:
        r = await reenvio.http().get(
            url, headers=headers, params={"instancia": instancia, "despues": despues}, timeout=TIMEOUT
        )
    except httpx.HTTPError:
        return None
    if r.status_code != 200:
        return None
    body = r.json()
    if isinstance(body, list):
        return body, None
    try:
        filas, hasta, suya = body["filas"], int(body["hasta"]), str(body["instancia"])
    except (KeyError, TypeError, ValueError):
        return None
    return (filas, (suya, hasta)) if isinstance(filas, list) else None
