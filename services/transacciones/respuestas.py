"""Replies from cuentas kept for the saga's next owner: an instance that reads a reply for a saga it does not own
(or cannot write now) stores it here, `_id` = the command it answers, insert-only.

Why: cuentas answers a command once (a re-sent command is deduplicated and not answered again), and each instance
reads the replies with its own consumer group, so the instance that reads a reply is not always the one that owns
its saga at that moment. The owner of a partition looks here for the step in progress of each of its sagas when it
takes the partition over, and before re-sending a step that seems stuck. Lookups are by `_id` only (the one query
FerretDB 1.x answers by index).
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, Final, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.transacciones.saga import Aplicado, Rechazado, Respuesta

COLLECTION: Final = "respuestas"
DUPLICATE_KEY: Final = 11000
LOOKUPS_AT_ONCE: Final = 32


class Respuestas(Protocol):
    async def guardar(self, respuestas: Sequence[tuple[str, Respuesta, str]]) -> None:
        """Keep (transaccion_id, reply, causing event id) triples; a reply kept before is left as it is."""
        ...

    async def buscar(self, comando_ids: Sequence[str]) -> dict[str, tuple[Respuesta, str]]:
        """The kept reply (and its event id) of each of these commands that has one."""
        ...


def to_document(transaccion_id: str, respuesta: Respuesta, causa: str) -> dict[str, Any]:
    kind = "aplicado" if isinstance(respuesta, Aplicado) else "rechazado"
    return {"_id": respuesta.comando_id, "transaccion_id": transaccion_id, "kind": kind, "causa": causa} | {
        k: v for k, v in asdict(respuesta).items() if k != "comando_id"
    }


def from_document(raw: dict[str, Any]) -> tuple[Respuesta, str]:
    fields = {k: v for k, v in raw.items() if k not in ("_id", "transaccion_id", "kind", "causa")}
    respuesta: Respuesta = (
        Aplicado(comando_id=raw["_id"], **fields) if raw["kind"] == "aplicado" else Rechazado(raw["_id"], **fields)
    )
    return respuesta, str(raw["causa"])


class MongoRespuestas:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._coll = db[COLLECTION]
        self.kept = 0
        self.seconds = 0.0  # spent keeping them (what reading every reply in every instance costs the store)

    async def guardar(self, respuestas: Sequence[tuple[str, Respuesta, str]]) -> None:
        if not respuestas:
            return
        started = time.perf_counter()
        try:
            await self._coll.insert_many([to_document(*r) for r in respuestas], ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise
        finally:
            self.seconds += time.perf_counter() - started
        self.kept += len(respuestas)

    async def buscar(self, comando_ids: Sequence[str]) -> dict[str, tuple[Respuesta, str]]:
        gate = asyncio.Semaphore(LOOKUPS_AT_ONCE)

        async def one(comando_id: str) -> dict[str, Any] | None:
            async with gate:
                return await self._coll.find_one({"_id": comando_id})

        found = await asyncio.gather(*(one(c) for c in comando_ids))
        return {c: from_document(raw) for c, raw in zip(comando_ids, found, strict=True) if raw is not None}
