"""The local replica of who owns each account and in which currency (cuenta_id -> cliente_id, moneda), folded from bank.cuentas.v1's CuentaAbierta
by its own consumer group, so a customer's requests are confined to their own accounts without asking cuentas.

Why a replica and not a call to cuentas per request: every customer read and transfer would then depend on cuentas
being up and pay a network hop, and the services share events and HTTP contracts, never each other's availability
(cuentas keeps its replica of clientes for the same reason). The cost is lag: an account opened a moment ago may
not be known here yet, and is answered as not found until its CuentaAbierta is folded (the saga itself, which
moves the money, never reads this replica).

No separate inbox: an account's owner and currency are fixed when it is opened, so a redelivered event finds its row
already there (a duplicate key, ignored); applying an event twice is the same as applying it once. The currency (for FX quotes) was added
later: the consumer group's name changed with it (`.v2`), so the new group folds every opening from the start of the
topic (infinite retention) and the rows written before gain their `moneda`.

The `_id` is the account id as a string: FerretDB 1.x answers `{_id: v}` from its primary key only when v is a string
or an ObjectId (its SQLite backend's filter pushdown); with integer ids every upsert and every lookup decoded the
whole collection, so folding n openings cost O(n²) (during `bank seed`: 2,502 of 20,000 openings folded after 3
minutes, FerretDB at 120% CPU). The ids changed with `.v3` and a collection of its own, refolded from the topic's
start the same way.
"""

from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, Final

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from consumers.handler import Delivery
from contracts.cuentas import CuentaAbierta
from contracts.envelope import Envelope
from contracts.money import Moneda
from services.transacciones import indexes
from services.transacciones.replica_lag import ReplicaCatchUp
from services.transacciones.repository import DUPLICATE_KEY

CONSUMER: Final = "transacciones.propietarios.v3"
COLLECTION: Final = "propietarios_de_cuentas"
_BY_CLIENTE: Final = "cliente_id_1"
INSERT_CHUNK: Final = 1000


def duenos(envelopes: Iterable[Envelope]) -> dict[int, int]:
    """cuenta_id -> cliente_id of the openings among `envelopes` (every other cuentas event says nothing new)."""
    out: dict[int, int] = {}
    for envelope in envelopes:
        if envelope.type == CuentaAbierta.type:
            evento = envelope.decode()
            assert isinstance(evento, CuentaAbierta)
            out[evento.cuenta_id] = evento.cliente_id
    return out


def aperturas(envelopes: Iterable[Envelope]) -> dict[int, tuple[int, Moneda]]:
    """cuenta_id -> (cliente_id, moneda) of the openings among `envelopes`."""
    out: dict[int, tuple[int, Moneda]] = {}
    for envelope in envelopes:
        if envelope.type == CuentaAbierta.type:
            evento = envelope.decode()
            assert isinstance(evento, CuentaAbierta)
            out[evento.cuenta_id] = (evento.cliente_id, evento.moneda)
    return out


class Propietarios:
    """`catch_up`: on a lookup that misses, wait (bounded) for the fold to reach what was published before it
    (replica_lag.py); None: a miss is final at once (a process that does not run the replica's consumer)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], catch_up: ReplicaCatchUp | None = None) -> None:
        self._coll = db[COLLECTION]
        self.catch_up = catch_up

    async def ensure_index(self, *, wanted: bool = True) -> None:
        """The index of `cuentas_de` (indexes.ensure)."""
        await indexes.ensure(self._coll, [IndexModel([("cliente_id", ASCENDING)], name=_BY_CLIENTE)], wanted=wanted)

    async def aplicar(self, envelopes: Sequence[Envelope]) -> int:
        nuevos = aperturas(envelopes)
        rows = [{"_id": clave(c), "cliente_id": d, "moneda": m} for c, (d, m) in nuevos.items()]
        # Inserted, not upserted: an account's row never changes, so a redelivered opening's duplicate key is the
        # row already there, as wanted. FerretDB 1.24 measured 0.045 ms per document in insert_many against 0.87
        # in upserts (a lookup, then an insert, per statement): 0.95 ms of FerretDB's CPU per account opened
        # during `bank seed`.
        for start in range(0, len(rows), INSERT_CHUNK):
            try:
                await self._coll.insert_many(rows[start : start + INSERT_CHUNK], ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                    raise
        return len(nuevos)

    async def dueno(self, cuenta_id: int) -> int | None:
        row = await self._row(cuenta_id)
        return None if row is None else int(row["cliente_id"])

    async def moneda(self, cuenta_id: int) -> Moneda | None:
        """The account's currency; None when unknown here (not opened, or its opening not folded in time)."""
        row = await self._row(cuenta_id)
        moneda: Moneda | None = None if row is None else row.get("moneda")
        return moneda

    async def _row(self, cuenta_id: int) -> dict[str, Any] | None:
        def lookup() -> Awaitable[dict[str, Any] | None]:
            return self._coll.find_one({"_id": clave(cuenta_id)})

        row = await lookup()
        if row is None and self.catch_up is not None:
            row = await self.catch_up.retry(lookup)  # opened a moment ago? (replica_lag.py)
        return row

    async def cuentas_de(self, cliente_id: int) -> frozenset[int]:
        return frozenset([int(row["_id"]) async for row in self._coll.find({"cliente_id": cliente_id}, {"_id": 1})])

    # ConsumerLoop entry points.
    async def handle(self, delivery: Delivery) -> None:
        await self.aplicar([delivery.envelope])

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        await self.aplicar([d.envelope for d in deliveries])


def clave(cuenta_id: int) -> str:
    """The document id of an account's row: a string, the one kind FerretDB 1.x looks up by its primary key."""
    return str(cuenta_id)
