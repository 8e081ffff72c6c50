"""Quotes of FX transfers (POST /cotizaciones) and their single use, in two insert-only Mongo collections.

`cotizaciones`: one document per quote (`_id` = cotizacionId), never changed. `cotizaciones_usadas`: one claim per
used quote (`_id` = cotizacionId, `doc_id` = the transaction made at it). Why a claim insert and not a flag updated on
the quote: FerretDB 1.x evaluates an update's filter outside its write transaction, so "set usada where unset" can
match twice; an insert of a taken `_id` fails on every store, atomically, so of two concurrent transfers naming one
quote exactly one gets it. The claim is taken before the transaction is recorded under the same id, so a request
that dies in between is finished by its Idempotency-Key retry (same id: the claim is already its own).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.envelope import AuthContext
from contracts.money import Moneda

COLLECTION: Final = "cotizaciones"
USADAS: Final = "cotizaciones_usadas"
PREFIJO: Final = "COT"


@dataclass(frozen=True)
class Cotizacion:
    """A quote: converting monto_origen out of cuenta_origen into monto_destino for cuenta_destino, until `vence`."""

    cotizacion_id: str
    cuenta_origen_id: int
    cuenta_destino_id: int
    moneda_origen: Moneda
    monto_origen: Decimal
    moneda_destino: Moneda
    monto_destino: Decimal
    tasa: Decimal
    ingreso: Decimal
    par: str
    vence: datetime
    creada: datetime
    actor: AuthContext | None = None

    def vencida(self, ahora: datetime) -> bool:
        return ahora >= self.vence


def nuevo_id() -> str:
    return f"{PREFIJO}{ObjectId()}"


def _doc(c: Cotizacion) -> dict[str, Any]:
    return {
        "_id": c.cotizacion_id,
        "cuenta_origen_id": c.cuenta_origen_id,
        "cuenta_destino_id": c.cuenta_destino_id,
        "moneda_origen": c.moneda_origen,
        "monto_origen": str(c.monto_origen),
        "moneda_destino": c.moneda_destino,
        "monto_destino": str(c.monto_destino),
        "tasa": str(c.tasa),
        "ingreso": str(c.ingreso),
        "par": c.par,
        "vence": c.vence,
        "creada": c.creada,
        "actor": None if c.actor is None else c.actor.to_data(),
    }


def _de_doc(raw: dict[str, Any]) -> Cotizacion:
    actor = raw.get("actor")
    return Cotizacion(
        cotizacion_id=raw["_id"],
        cuenta_origen_id=int(raw["cuenta_origen_id"]),
        cuenta_destino_id=int(raw["cuenta_destino_id"]),
        moneda_origen=raw["moneda_origen"],
        monto_origen=Decimal(raw["monto_origen"]),
        moneda_destino=raw["moneda_destino"],
        monto_destino=Decimal(raw["monto_destino"]),
        tasa=Decimal(raw["tasa"]),
        ingreso=Decimal(raw["ingreso"]),
        par=raw["par"],
        vence=raw["vence"],
        creada=raw["creada"],
        actor=None if actor is None else AuthContext(str(actor["authtype"]), actor.get("authid")),
    )


class Cotizaciones:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._coll = db[COLLECTION]
        self._usadas = db[USADAS]

    async def guardar(self, c: Cotizacion) -> None:
        await self._coll.insert_one(_doc(c))

    async def obtener(self, cotizacion_id: str) -> Cotizacion | None:
        raw = await self._coll.find_one({"_id": cotizacion_id})
        return None if raw is None else _de_doc(raw)

    async def usar(self, cotizacion_id: str, doc_id: ObjectId) -> ObjectId | None:
        """Take the quote for the transaction `doc_id`: None when taken now (or already by `doc_id`), else the id
        of the transaction that holds it."""
        try:
            await self._usadas.insert_one({"_id": cotizacion_id, "doc_id": doc_id})
        except DuplicateKeyError:
            raw = await self._usadas.find_one({"_id": cotizacion_id})
            if raw is None:  # claims are never deleted
                raise
            holder: ObjectId = raw["doc_id"]
            return None if holder == doc_id else holder
        return None
