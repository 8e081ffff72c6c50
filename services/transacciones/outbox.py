"""The outbox inside each transaction document, with one owner for an event's whole life in it.

The write that decides an event appends it to the document (`queue`), so deciding and publishing are atomic. In
this process it is then:
  pending    in a document the writer just wrote (or a state it keeps in memory: a saga command that replies
             derive again, writer.py): the relay (producers.outbox.OutboxRelay) takes it from the writer's memory
             (`relay_batch`), no query;
  attempted  handed to Kafka (it may be out, even when the send failed);
  acked      in Kafka: it leaves the document with the document's next write, or with a write of its own after
             `fold_seconds` (unless a saga step is in flight: its reply writes the document anyway);
  blocked    held back while a cancellation takes it out unsent (`withdraw`).
A crash loses nothing: unremoved events are found by the start-up scan and published again (at-least-once;
consumers dedupe on ce_id). Why not a query for pending events (as an outbox relay usually does): on FerretDB 1.x
every such query scans the whole collection, and its `$pull` with a condition is a silent no-op there.
"""

import asyncio
import contextlib
import dataclasses
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from bson import ObjectId

from contracts.base import Message
from contracts.envelope import AuthContext, Envelope, envelope_for
from producers.outbox import Publish
from producers.outbox_row import OutboxRow
from services.transacciones.domain import Transaccion
from services.transacciones.saga import PASOS_EN_CURSO, event_id
from services.transacciones.writer import DocumentWriter

SOURCE = "/transacciones"


def queue(
    doc: Transaccion,
    mensajes: Iterable[Message],
    *,
    intento: int,
    causa: str | None,
    now: datetime,
    authcontext: AuthContext | None = None,
) -> Transaccion:
    """`doc` with these messages waiting to be published, as this service's CloudEvents (their ids derived from what
    they say, so deciding the same thing twice queues one event), carrying `authcontext` (who they are made for)."""
    rows = tuple(
        OutboxRow.of(
            _in_trace(
                envelope_for(
                    m,
                    source=SOURCE,
                    correlation_id=doc.transaccion_id,
                    causation_id=causa,
                    event_id=event_id(m, intento),
                    time=now,
                    authcontext=authcontext,
                ),
                doc,
            )
        ).to_document()
        for m in mensajes
    )
    return doc.model_copy(update={"outbox": doc.outbox + rows}) if rows else doc


def _in_trace(envelope: Envelope, doc: Transaccion) -> Envelope:
    """An event decided outside any span (a re-sent step, recovery) joins the trace of the request that created
    the transaction: its ids are derived from what it says, so it may be the only copy that is ever published."""
    if envelope.traceparent or doc.traza is None:
        return envelope
    return dataclasses.replace(envelope, traceparent=doc.traza[0], tracestate=doc.traza[1])


def carries_command(doc: Transaccion, comando_id: str | None) -> bool:
    """Some emission of this command is still waiting in the document (not yet acknowledged by Kafka)."""
    for event in doc.outbox:
        try:
            payload = json.loads(event["payload"])
        except (ValueError, KeyError):
            continue
        if isinstance(payload, dict) and payload.get("comando_id") == comando_id:
            return True
    return False


def event_ids(doc: Transaccion) -> set[str]:
    return {e["event_id"] for e in doc.outbox}


def without(doc: Transaccion, ids: set[str]) -> Transaccion:
    if not ids:
        return doc
    return doc.model_copy(update={"outbox": tuple(e for e in doc.outbox if e["event_id"] not in ids)})


class DocumentOutbox:
    """The outbox of the documents one writer writes: the relay's store (producers.outbox.OutboxStore), the
    writer's partner in every write (writer.OutboxPart) and the guard of cancellations."""

    def __init__(
        self,
        writer: DocumentWriter,
        *,
        fold_seconds: float = 0.5,
        idle_wait: float = 0.5,
        epoch: str | None = None,
    ) -> None:
        self._writer = writer
        self._fold = fold_seconds
        self._idle_wait = idle_wait
        # The process instance that creates documents here: what was handed to Kafka is known only for those.
        self.epoch = epoch or uuid.uuid4().hex
        self._pending: OrderedDict[ObjectId, None] = OrderedDict()  # documents written with events
        self._inflight: set[str] = set()
        self._attempted: set[str] = set()
        self._blocked: set[str] = set()
        self._acked: dict[ObjectId, set[str]] = {}
        self._write_due: dict[ObjectId, float] = {}  # insertion order = deadline order (constant delay)
        self._wake = asyncio.Event()
        self.publish_seconds = 0.0
        self.published = 0
        writer.attach(self)

    @property
    def backlog(self) -> int:
        return len(self._pending)

    def oldest_pending_age(self) -> float:
        """Seconds since the oldest transaction with unpublished events was created (its ObjectId's time); 0 if none."""
        if not self._pending:
            return 0.0
        oldest = min(doc_id.generation_time for doc_id in self._pending)
        return max(0.0, (datetime.now(UTC) - oldest).total_seconds())

    # -- send (the relay's side) ---------------------------------------------------------------------------------

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
        writer = self._writer
        loaded: dict[ObjectId, Transaccion | None] = {}
        for doc_id in ids:
            if writer.latest(doc_id) is None:
                loaded[doc_id] = await writer.cache.get(doc_id)  # evicted from the writer's memory (rare)
        # From here to `publish` nothing awaits, so a cancellation sees either none or all of this batch.
        rows: list[OutboxRow] = []
        sent: dict[ObjectId, list[str]] = {}
        for doc_id in ids:
            doc = writer.latest(doc_id) or loaded.get(doc_id)
            if doc is None:
                continue
            skip = self._acked.get(doc_id, set()) | self._inflight | self._blocked
            for event in doc.outbox:
                if event["event_id"] not in skip:
                    rows.append(OutboxRow.from_document(event))
                    sent.setdefault(doc_id, []).append(event["event_id"])
        if not rows:
            return 0
        ids_sent = {e for events in sent.values() for e in events}
        self._inflight |= ids_sent
        self._attempted |= ids_sent
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
            self._acknowledged(doc_id, events)
        return len(rows)

    # -- acknowledge (the writer's side, writer.OutboxPart) ------------------------------------------------------

    def _acknowledged(self, doc_id: ObjectId, ids: Iterable[str]) -> None:
        """Kafka has these events: they leave the document with its next write, or with one of their own soon."""
        self._acked.setdefault(doc_id, set()).update(ids)
        if doc_id not in self._write_due:
            self._write_due[doc_id] = time.monotonic() + self._fold
            self._writer.wake()

    def trim(self, doc: Transaccion) -> Transaccion:
        present = event_ids(doc)
        self._forget(doc.id, self._acked.get(doc.id, set()) - present)
        return without(doc, present & self._acked.get(doc.id, set()))

    def written(self, doc: Transaccion) -> None:
        acked = self._acked.get(doc.id)
        if acked:
            self._forget(doc.id, acked - event_ids(doc))
        if doc.outbox:
            self._hint(doc.id)

    def round_over(self, doc_id: ObjectId) -> None:
        if self._acked.get(doc_id) and doc_id not in self._write_due:
            # Not written this round (a failure, or nothing else changed): a write of their own, later.
            self._write_due[doc_id] = time.monotonic() + self._fold

    def gone(self, doc_id: ObjectId) -> None:
        self._forget(doc_id, self._acked.get(doc_id, set()))

    def next_due(self) -> float | None:
        return next(iter(self._write_due.values()), None)

    def due(self, limit: int) -> list[ObjectId]:
        now = time.monotonic()
        due: list[ObjectId] = []
        for doc_id, deadline in list(self._write_due.items()):
            if deadline > now or len(due) >= limit:
                break
            del self._write_due[doc_id]
            cached = self._writer.latest(doc_id)
            if cached is not None and not cached.final and cached.saga.paso in PASOS_EN_CURSO:
                # A step is in flight: its reply (or the sweeper's re-send) writes the document anyway and takes the
                # acknowledged events out with it. Under a backlog replies take longer than the fold, and writes
                # of their own had added one write per saga (measured: 2,038 for 2,000 sagas).
                continue
            due.append(doc_id)
        return due

    def drop(self, doc_ids: set[ObjectId]) -> None:
        """Another instance owns these documents now: their events are its to publish and remove."""
        for doc_id in doc_ids:
            self._pending.pop(doc_id, None)
            self._acked.pop(doc_id, None)
            self._write_due.pop(doc_id, None)

    def _forget(self, doc_id: ObjectId, ids: set[str]) -> None:
        """These events are no longer in the document: nothing left to remove or to guard."""
        if not ids:
            return
        self._attempted.difference_update(ids)
        remaining = self._acked.get(doc_id, set()) - ids
        if remaining:
            self._acked[doc_id] = remaining
        else:
            self._acked.pop(doc_id, None)
            self._write_due.pop(doc_id, None)

    def _hint(self, doc_id: ObjectId) -> None:
        self._pending[doc_id] = None
        self._wake.set()

    # -- block for cancellation ----------------------------------------------------------------------------------

    async def withdraw(
        self, doc_id: ObjectId, event: str, decide: Callable[[Transaccion], Transaccion | None]
    ) -> Transaccion | None:
        """Take `event` out of the document unsent, in one write with `decide(the document without it)`. None
        (nothing written) when it may already be out: handed to Kafka, no longer in the document, or in a document
        another process instance created (it may have sent it just before dying); or when `decide` says None."""
        if event in self._attempted or event in self._inflight:
            return None
        self._blocked.add(event)

        def change(current: Transaccion) -> tuple[Transaccion | None, Transaccion | None]:
            if current.epoch != self.epoch or event not in event_ids(current):
                return None, None
            new = decide(without(current, {event}))
            return new, new

        try:
            return await self._writer.mutate(doc_id, change)
        finally:
            self._blocked.discard(event)
            latest = self._writer.latest(doc_id)
            if latest is not None and latest.outbox:
                self._hint(doc_id)  # whatever is left pending (e.g. after a refusal) goes out now
