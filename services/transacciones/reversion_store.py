"""Who holds each reversal attempt of an original: one insert-only record per attempt (`_id` = "<original>:<n>").

Why insert-only: FerretDB 1.x evaluates an update's filter outside its write transaction, so a conditional update
("set revertidaPor where it is unset") can match twice under concurrency. An insert of a taken `_id` fails on every
store, atomically: two concurrent reversals of one original claim the same attempt and exactly one gets it. A
failed attempt does not use the original up: the next request claims attempt n+1 (reversion.py says when).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.transacciones import indexes

COLLECTION = "reversiones"
_BY_ORIGINAL = "original"


@dataclass(frozen=True)
class Intento:
    """Attempt `n` of reversing `original`, held by the reversal transaction `doc_id`."""

    original: ObjectId
    n: int
    doc_id: ObjectId


class ReversionStore(Protocol):
    async def reclamar(self, intento: Intento) -> ObjectId | None:
        """Take the attempt for its doc_id: None when taken now, else the doc_id that already holds it."""
        ...

    async def de(self, originals: Sequence[ObjectId]) -> dict[ObjectId, list[Intento]]:
        """The attempts of each of these originals that has any, in attempt order."""
        ...


class MongoReversiones:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._coll = db[COLLECTION]

    async def ensure_index(self, *, wanted: bool = True) -> None:
        """The index of an original's reversal attempts (indexes.ensure)."""
        model = IndexModel([("original", ASCENDING), ("n", ASCENDING)], name=_BY_ORIGINAL)
        await indexes.ensure(self._coll, [model], wanted=wanted)

    async def reclamar(self, intento: Intento) -> ObjectId | None:
        key = f"{intento.original}:{intento.n}"
        try:
            await self._coll.insert_one(
                {"_id": key, "original": intento.original, "n": intento.n, "doc_id": intento.doc_id}
            )
        except DuplicateKeyError:
            raw = await self._coll.find_one({"_id": key})
            if raw is None:  # attempts are never deleted
                raise
            holder: ObjectId = raw["doc_id"]
            return holder
        return None

    async def de(self, originals: Sequence[ObjectId]) -> dict[ObjectId, list[Intento]]:
        if not originals:
            return {}
        # A small collection (one row per reversal attempt ever): a scan of it costs little even on FerretDB 1.x.
        found: dict[ObjectId, list[Intento]] = {}
        async for raw in self._coll.find({"original": {"$in": list(originals)}}):
            found.setdefault(raw["original"], []).append(Intento(raw["original"], int(raw["n"]), raw["doc_id"]))
        return {k: sorted(v, key=lambda i: i.n) for k, v in found.items()}
