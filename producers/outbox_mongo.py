"""Mongo outbox: pending events live inside the aggregate's own document (single-document writes are
atomic everywhere, FerretDB included); the relay publishes them and pulls them out."""

import os
import socket
import time
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from producers.outbox import OutboxRow, Publish

PENDING_FIELD = "outbox"
LEASE_SECONDS = 10.0


class MongoOutbox:
    """The relay's view of one collection whose documents carry `outbox: [event, ...]`.

    Two relays take turns through a lease document; a killed leader's lease simply expires.
    """

    def __init__(self, collection: AsyncCollection[dict[str, Any]], leases: AsyncCollection[dict[str, Any]]) -> None:
        self._coll = collection
        self._leases = leases
        self._lease_id = f"outbox:{collection.name}"
        self._me = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([(f"{PENDING_FIELD}.event_id", ASCENDING)], sparse=True)

    async def _hold_lease(self) -> bool:
        now = time.time()
        try:
            await self._leases.update_one(
                {"_id": self._lease_id, "$or": [{"until": {"$lt": now}}, {"owner": self._me}]},
                {"$set": {"owner": self._me, "until": now + LEASE_SECONDS}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # somebody else holds an unexpired lease
        return True

    async def relay_batch(self, limit: int, publish: Publish) -> int:
        if not await self._hold_lease():
            return 0
        docs = [
            d async for d in self._coll.find({f"{PENDING_FIELD}.0": {"$exists": True}}, {PENDING_FIELD: 1}).limit(limit)
        ]
        rows: list[tuple[Any, OutboxRow]] = [
            (d["_id"], OutboxRow.from_document(e)) for d in docs for e in d.get(PENDING_FIELD, [])
        ]
        if not rows:
            return 0
        await publish([row for _, row in rows])
        for doc in docs:
            # $pullAll removes exactly the elements that were sent (events appended meanwhile stay pending);
            # FerretDB 1.x supports only exact-value matching in $pull, so no {event_id: {$in: ...}} here.
            await self._coll.update_one({"_id": doc["_id"]}, {"$pullAll": {PENDING_FIELD: doc.get(PENDING_FIELD, [])}})
        return len(rows)
