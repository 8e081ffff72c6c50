"""The local replica of who owns each account (cuenta_id -> cliente_id), folded from bank.cuentas.v1's CuentaAbierta
by its own consumer group, so a customer's requests are confined to their own accounts without asking cuentas.

Why a replica and not a call to cuentas per request: every customer read and transfer would then depend on cuentas
being up and pay a network hop, and the services share events and HTTP contracts, never each other's availability
(cuentas keeps its replica of clientes for the same reason). The cost is lag: an account opened a moment ago may
not be known here yet, and is answered as not found until its CuentaAbierta is folded (the saga itself, which
moves the money, never reads this replica).

No separate inbox: an account's owner is fixed when it is opened, so each row is written once with `$setOnInsert`
and a redelivered event rewrites nothing; applying an event twice is the same as applying it once.
"""

from collections.abc import Iterable, Sequence
from typing import Any, Final

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from consumers.runner import Delivery
from contracts.cuentas import CuentaAbierta
from contracts.envelope import Envelope

CONSUMER: Final = "transacciones.propietarios"
COLLECTION: Final = "cuentas_propietarios"
_BY_CLIENTE: Final = "cliente_id_1"


def duenos(envelopes: Iterable[Envelope]) -> dict[int, int]:
    """cuenta_id -> cliente_id of the openings among `envelopes` (every other cuentas event says nothing new)."""
    out: dict[int, int] = {}
    for envelope in envelopes:
        if envelope.type == CuentaAbierta.type:
            evento = envelope.decode()
            assert isinstance(evento, CuentaAbierta)
            out[evento.cuenta_id] = evento.cliente_id
    return out


class Propietarios:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._db = db
        self._coll = db[COLLECTION]

    async def ensure_index(self) -> None:
        # Created only when missing: FerretDB 1.x answers a re-created index by dropping the connection.
        existing = (
            set((await self._coll.index_information()).keys())
            if COLLECTION in set(await self._db.list_collection_names())
            else set()
        )
        if _BY_CLIENTE not in existing:
            await self._coll.create_index([("cliente_id", ASCENDING)], name=_BY_CLIENTE)

    async def aplicar(self, envelopes: Sequence[Envelope]) -> int:
        nuevos = duenos(envelopes)
        if nuevos:
            await self._coll.bulk_write(
                [UpdateOne({"_id": c}, {"$setOnInsert": {"cliente_id": d}}, upsert=True) for c, d in nuevos.items()],
                ordered=False,
            )
        return len(nuevos)

    async def dueno(self, cuenta_id: int) -> int | None:
        row = await self._coll.find_one({"_id": cuenta_id})
        return None if row is None else int(row["cliente_id"])

    async def cuentas_de(self, cliente_id: int) -> frozenset[int]:
        return frozenset([int(row["_id"]) async for row in self._coll.find({"cliente_id": cliente_id}, {"_id": 1})])

    # ConsumerLoop entry points.
    async def one(self, delivery: Delivery) -> None:
        await self.aplicar([delivery.envelope])

    async def batch(self, deliveries: Sequence[Delivery]) -> None:
        await self.aplicar([d.envelope for d in deliveries])
