"""The bank's rate table (PUT/GET /tipos-cambio): insert-only versions in Mongo, each with its event to publish.

Why versions and not one document updated in place: FerretDB 1.x evaluates an update's filter outside its write
transaction, so a read-modify-write of one table document could lose a concurrent change. Each change inserts
version n+1 (`_id` = n+1) holding the whole merged table; two concurrent changes collide on that `_id` and the loser
merges again on top of the winner. The current table is the highest version (a small collection: one row per
change). The version's `TiposCambioActualizados` is written in the same insert (the outbox) and published by the
relay (`relay_batch`), then marked; a crash in between publishes it again with the same event id (at-least-once).
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.envelope import AuthContext, envelope_for
from contracts.money import Moneda
from contracts.transacciones import TasaCambio, TiposCambioActualizados
from producers.outbox import Publish
from producers.outbox_row import OutboxRow
from services.transacciones.fx import Tasa

log = logging.getLogger(__name__)

COLLECTION: Final = "tipos_cambio"
SOURCE: Final = "/transacciones/tipos-cambio"
_RETRIES: Final = 20
# The table a new bank starts with (README "FX transfers"): written once, only when no table exists yet.
INICIAL: Final[tuple[tuple[Moneda, Moneda, str, str], ...]] = (
    ("USD", "PEN", "3.70", "3.80"),
    ("EUR", "PEN", "4.00", "4.12"),
    ("EUR", "USD", "1.06", "1.10"),
)


@dataclass(frozen=True)
class TasaVigente:
    """One pair of the table as stored: its rates, when and by whom they were last set."""

    tasa: Tasa
    actualizado: datetime
    actor: AuthContext | None


def _fila(v: TasaVigente) -> dict[str, Any]:
    return {
        "par": v.tasa.par,
        "compra": str(v.tasa.compra),
        "venta": str(v.tasa.venta),
        "actualizado": v.actualizado,
        "actor": None if v.actor is None else v.actor.to_data(),
    }


def _de_fila(raw: dict[str, Any]) -> TasaVigente:
    base, cotizada = str(raw["par"]).split("/")
    actor = raw.get("actor")
    return TasaVigente(
        tasa=Tasa(base, cotizada, Decimal(raw["compra"]), Decimal(raw["venta"])),  # type: ignore[arg-type]
        actualizado=raw["actualizado"],
        actor=None if actor is None else AuthContext(str(actor["authtype"]), actor.get("authid")),
    )


def fusionar(tabla: dict[str, TasaVigente], nuevas: Sequence[TasaVigente]) -> dict[str, TasaVigente]:
    """The table with `nuevas` set; a pair replaces its inverse (so at most one pair converts two currencies)."""
    out = dict(tabla)
    for n in nuevas:
        out.pop(f"{n.tasa.cotizada}/{n.tasa.base}", None)
        out[n.tasa.par] = n
    return dict(sorted(out.items()))


class TiposCambio:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._coll = db[COLLECTION]
        # Whether this instance's relay publishes the table's events now: every instance reads the same versions, and
        # two relays would both publish one (FerretDB has no atomic claim-by-update). main.py gives the turn to the
        # holder of saga partition 0; None: always (a single process).
        self.turno: Callable[[], bool] | None = None

    async def _ultima(self) -> dict[str, Any] | None:
        return await self._coll.find_one({}, sort=[("_id", DESCENDING)])

    async def vigentes(self) -> dict[str, TasaVigente]:
        """The current table by pair ("USD/PEN")."""
        raw = await self._ultima()
        return {} if raw is None else {r["par"]: _de_fila(r) for r in raw["tasas"]}

    async def tasas(self) -> dict[str, Tasa]:
        return {par: v.tasa for par, v in (await self.vigentes()).items()}

    async def fijar(self, nuevas: Sequence[TasaVigente], *, solo_si_vacia: bool = False) -> dict[str, TasaVigente]:
        """Set these pairs (the others keep their rates) as one new version with its event; the resulting table.
        `solo_si_vacia`: only when no table exists yet (the initial table; another instance may write it first)."""
        for _ in range(_RETRIES):
            raw = await self._ultima()
            if raw is not None and solo_si_vacia:
                return await self.vigentes()
            version = 1 if raw is None else int(raw["_id"]) + 1
            tabla = fusionar({} if raw is None else {r["par"]: _de_fila(r) for r in raw["tasas"]}, nuevas)
            cuando = max(n.actualizado for n in nuevas)
            evento = TiposCambioActualizados(
                version=version,
                tasas=[TasaCambio(par=p, compra=str(v.tasa.compra), venta=str(v.tasa.venta)) for p, v in tabla.items()],
                cambiadas=[n.tasa.par for n in nuevas],
                actualizado=cuando,
            )
            actor = nuevas[0].actor
            row = OutboxRow.of(envelope_for(evento, source=SOURCE, time=cuando, authcontext=actor)).to_document()
            try:
                await self._coll.insert_one(
                    {
                        "_id": version,
                        "tasas": [_fila(v) for v in tabla.values()],
                        "creada": cuando,
                        "outbox": [row],
                        "publicado": False,
                    }
                )
            except DuplicateKeyError:
                continue  # another change took this version: merge on top of it
            return tabla
        raise RuntimeError("too many concurrent changes of the rate table")

    async def relay_batch(self, limit: int, publish: Publish) -> int:
        """OutboxStore: publish the events of versions not marked published yet (oldest first), then mark them."""
        if self.turno is not None and not self.turno():
            return 0
        pendientes = [raw async for raw in self._coll.find({"publicado": False}).sort("_id").limit(limit)]
        if not pendientes:
            return 0
        await publish([OutboxRow.from_document(r["outbox"][0]) for r in pendientes])
        for raw in pendientes:
            await self._coll.update_one({"_id": raw["_id"]}, {"$set": {"publicado": True}})
        return len(pendientes)
