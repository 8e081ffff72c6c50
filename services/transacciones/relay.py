"""The outbox relay's view of the transacciones collection (a producers.outbox.OutboxStore).

producers.outbox_mongo.MongoOutbox finds pending events with a query; on FerretDB 1.x every such query scans
the whole collection, and its `$pull` with a condition is a silent no-op there. Here the writer tells the relay
which documents it just wrote with events (a hint), the relay takes them from the writer's memory, publishes
them in one batch and hands the acknowledged ids back to the writer, which removes them from the document.
A crash loses nothing: unremoved events are found by the start-up scan and published again (at-least-once).
"""

import asyncio
import contextlib
import time
from collections import OrderedDict

from bson import ObjectId

from producers.outbox import OutboxRow, Publish
from services.transacciones.domain import Transaccion
from services.transacciones.store import TransaccionStore


class TransaccionOutbox:
    def __init__(self, store: TransaccionStore, *, idle_wait: float = 0.5) -> None:
        self._store = store
        self._pending: OrderedDict[ObjectId, None] = OrderedDict()
        self._inflight: set[str] = set()
        self._wake = asyncio.Event()
        self._idle_wait = idle_wait
        self.publish_seconds = 0.0
        self.published = 0
        store.subscribe(self.hint)

    def hint(self, doc: Transaccion) -> None:
        """Writer listener: a document was written; publish what it carries."""
        if doc.outbox:
            self._pending[doc.id] = None
            self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._pending)

    def reserve(self, event_id: str) -> bool:
        """Keep `event_id` from being sent while a cancellation decides; False if it may already be sent."""
        if event_id in self._store.attempted or event_id in self._inflight:
            return False
        self._store.blocked.add(event_id)
        return True

    def release(self, event_id: str) -> None:
        self._store.blocked.discard(event_id)

    async def relay_batch(self, limit: int, publish: Publish) -> int:
        if not self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_wait)
            self._wake.clear()
        ids: list[ObjectId] = []
        while self._pending and len(ids) < limit:
            ids.append(self._pending.popitem(last=False)[0])
        if not ids:
            return 0
        loaded: dict[ObjectId, Transaccion | None] = {}
        for doc_id in ids:
            if self._store.cached(doc_id) is None:
                loaded[doc_id] = await self._store.get(doc_id)  # evicted from the writer's memory (rare)
        # From here to `publish` nothing awaits, so a cancellation sees either none or all of this batch.
        rows: list[OutboxRow] = []
        sent: dict[ObjectId, list[str]] = {}
        for doc_id in ids:
            doc = self._store.cached(doc_id) or loaded.get(doc_id)
            if doc is None:
                continue
            skip = self._store.acked(doc_id) | self._inflight | self._store.blocked
            for event in doc.outbox:
                if event["event_id"] not in skip:
                    rows.append(OutboxRow.from_document(event))
                    sent.setdefault(doc_id, []).append(event["event_id"])
        if not rows:
            return 0
        ids_sent = {e for events in sent.values() for e in events}
        self._inflight |= ids_sent
        self._store.attempted |= ids_sent
        started = time.perf_counter()
        try:
            await publish(rows)
        except BaseException:
            for doc_id in sent:  # try these again (the same events: consumers dedupe on ce_id)
                self._pending[doc_id] = None
            raise
        finally:
            self._inflight -= ids_sent
            self.publish_seconds += time.perf_counter() - started
        self.published += len(rows)
        for doc_id, events in sent.items():
            self._store.published(doc_id, events)
        return len(rows)
