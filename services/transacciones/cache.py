"""The writer's memory of transaction documents: the latest durable state of each, read from storage on a miss.

Only the writer fills it (with what it just wrote, or read to change), so a cached document is always durable and
always the newest; readers that miss read storage, and a write that lands meanwhile wins over what they read.
"""

from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from bson import ObjectId

from services.transacciones.domain import Transaccion


class Loader(Protocol):
    async def load(self, ids: Sequence[ObjectId]) -> dict[ObjectId, Transaccion]: ...


class DocumentCache:
    """Least recently written documents evicted first; anything evicted is simply read again when needed."""

    def __init__(self, repo: Loader, size: int = 100_000) -> None:
        self._repo = repo
        self._size = size
        self._latest: OrderedDict[ObjectId, Transaccion] = OrderedDict()
        self._by_idem: dict[str, ObjectId] = {}  # idempotency keys of the cached documents
        self._settled: OrderedDict[ObjectId, Transaccion] = OrderedDict()  # read copies of archived documents

    def latest(self, doc_id: ObjectId) -> Transaccion | None:
        """The document as the writer last wrote (or read) it, if still in memory."""
        return self._latest.get(doc_id)

    def by_idem(self, idem: str) -> Transaccion | None:
        """The document holding this idempotency key, if it is in memory (then it is durable too)."""
        doc_id = self._by_idem.get(idem)
        return self._latest.get(doc_id) if doc_id is not None else None

    async def get(self, doc_id: ObjectId) -> Transaccion | None:
        cached = self._latest.get(doc_id) or self._settled.get(doc_id)
        if cached is not None:
            return cached
        found = (await self._repo.load([doc_id])).get(doc_id)
        # A write may have landed while we read: the memory, filled only by the writer, then wins.
        latest = self._latest.get(doc_id)
        if latest is not None:
            return latest
        if found is not None and found.final:
            # Final: nothing of it but its unpublished events changes again, and readers do not read those, so a
            # copy stays true (list pages read their documents through here; a second look costs no lookups).
            self._settled[doc_id] = found
            while len(self._settled) > self._size:
                self._settled.popitem(last=False)
        return found

    def remember(self, doc: Transaccion) -> None:
        """The writer's latest durable (or just read) state of `doc`."""
        self._latest[doc.id] = doc
        self._latest.move_to_end(doc.id)
        self._by_idem[doc.idem] = doc.id
        while len(self._latest) > self._size:
            _, evicted = self._latest.popitem(last=False)
            self._by_idem.pop(evicted.idem, None)

    def ids(self) -> list[ObjectId]:
        """The documents in the writer's memory."""
        return list(self._latest)

    def forget(self, doc_id: ObjectId) -> None:
        """Its stored state is unknown (a failed write may have landed or not): the next access reads it again."""
        forgotten = self._latest.pop(doc_id, None)
        if forgotten is not None:
            self._by_idem.pop(forgotten.idem, None)
