"""The single writer of transaction documents: every change to a document goes through its loop.

Why one writer: FerretDB 1.x evaluates an update's filter outside its write transaction, so two concurrent
conditional updates of one document can both "match" and the second silently overwrites the first. Here each
change is a pure function of the document's latest state, applied in order in this process, and each round of
changes is one bulk write. What was written stays in memory, so the hot path reads nothing back.

It also keeps the outbox bookkeeping the relay and cancellation share: which events were handed to Kafka
(`attempted`), which Kafka acknowledged (`acked`: removed from the document by its next write, or by a write of
their own after `fold_seconds`), and which must not be sent (`blocked`, while a cancellation decides).

Assumption: one process writes a given database (the service runs as one instance, restarted by supervisor).
"""

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bson import ObjectId

from services.transacciones.claims import ClaimBatcher
from services.transacciones.domain import Transaccion, ahora
from services.transacciones.errors import TransaccionNoEncontrada
from services.transacciones.repository import Repository, archivable
from services.transacciones.saga import PASOS_EN_CURSO

log = logging.getLogger(__name__)

T = TypeVar("T")
Change = Callable[[Transaccion], tuple[Transaccion | None, T]]
"""A change: the document's next state (None: leave it as it is) and a result for the caller. Runs inside the
writer loop, so it must not block; raising rejects this change only."""
Listener = Callable[[Transaccion], None]
IDLE_PAUSE = 0.2
"""A wait for work at least this long means the writer keeps up (a shorter one is the gap between two batches
of a consumer that waits for its writes)."""


@dataclass
class _Insert:
    doc: Transaccion
    done: asyncio.Future[Transaccion]


@dataclass
class _Mutation(Generic[T]):
    doc_id: ObjectId
    change: Change[T]
    done: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class TransaccionStore:
    def __init__(
        self,
        repo: Repository,
        *,
        batch: int = 500,
        cache_size: int = 100_000,
        fold_seconds: float = 0.5,
        epoch: str | None = None,
    ) -> None:
        self.repo = repo
        self.claims = ClaimBatcher(repo)  # the Idempotency-Keys taken, batched like the writes
        self.epoch = epoch or uuid.uuid4().hex
        self._batch = batch
        self._cache_size = cache_size
        self._fold = fold_seconds
        self._cache: OrderedDict[ObjectId, Transaccion] = OrderedDict()
        self._by_idem: dict[str, ObjectId] = {}  # idempotency keys of the cached documents
        self._settled: OrderedDict[ObjectId, Transaccion] = OrderedDict()  # read copies of archived documents
        self._queue: list[_Insert | _Mutation[Any]] = []
        self._wake = asyncio.Event()
        self._listeners: list[Listener] = []
        self.attempted: set[str] = set()
        self.blocked: set[str] = set()
        self._acked: dict[ObjectId, set[str]] = {}
        self._pull_due: dict[ObjectId, float] = {}  # insertion order = deadline order (constant delay)
        self._rewrite: set[ObjectId] = set()  # recovered documents to be written again (e.g. to be archived)
        self._busy_since: float | None = None  # start of the current stretch of rounds without an idle pause
        self._waiting_since: float | None = None  # start of the current wait for work
        self.rounds = 0
        self.writes = 0
        self.seconds: dict[str, float] = {"insert": 0.0, "load": 0.0, "replace": 0.0}  # time spent in the store

    # -- API for callers -------------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """`listener(doc)` runs after every durable write of `doc` (insert or change)."""
        self._listeners.append(listener)

    async def insert(self, doc: Transaccion) -> Transaccion:
        """Write a new document; raises repository.DuplicateIdem when its idempotency key is taken."""
        done: asyncio.Future[Transaccion] = asyncio.get_running_loop().create_future()
        self._enqueue(_Insert(doc, done))
        return await done

    async def mutate(self, doc_id: ObjectId, change: Change[T]) -> T:
        """Apply `change` to the latest state of the document and write it; returns the change's result.
        Raises TransaccionNoEncontrada for an unknown id."""
        op: _Mutation[T] = _Mutation(doc_id, change)
        self._enqueue(op)
        return await op.done

    async def get(self, doc_id: ObjectId) -> Transaccion | None:
        cached = self.cached(doc_id) or self._settled.get(doc_id)
        if cached is not None:
            return cached
        found = (await self.repo.load([doc_id])).get(doc_id)
        # A write may have landed while we read: the cache, filled only by writes, then wins.
        latest = self.cached(doc_id)
        if latest is not None:
            return latest
        if found is not None and archivable(found):
            # Final with nothing left to publish: it will never be written again, so a copy stays true (list
            # pages read their documents through here; a second look at a page then costs no store lookups).
            self._settled[doc_id] = found
            while len(self._settled) > self._cache_size:
                self._settled.popitem(last=False)
        return found

    def cached(self, doc_id: ObjectId) -> Transaccion | None:
        return self._cache.get(doc_id)

    def cached_by_idem(self, idem: str) -> Transaccion | None:
        """The document holding this idempotency key, if it is in memory (then it is durable too)."""
        doc_id = self._by_idem.get(idem)
        return self._cache.get(doc_id) if doc_id is not None else None

    def adopt(self, docs: Iterable[Transaccion]) -> None:
        """Take documents read at recovery into memory (unless a newer write is already there) and announce them."""
        for doc in docs:
            if doc.id not in self._cache:
                self._remember(doc)
                self._notify(doc)
                if doc.final and not doc.outbox:
                    # A crash between archiving it and removing the live copy: write it again to finish the move.
                    self._rewrite.add(doc.id)
                    self._pull_due.setdefault(doc.id, time.monotonic())
                    self._wake.set()

    def busy_seconds(self) -> float:
        """How long the writer has gone from round to round without pausing for IDLE_PAUSE (0 when idle)."""
        now = time.monotonic()
        if self._busy_since is None or (self._waiting_since is not None and now - self._waiting_since >= IDLE_PAUSE):
            return 0.0
        return now - self._busy_since

    def acked(self, doc_id: ObjectId) -> set[str]:
        return self._acked.get(doc_id, set())

    def published(self, doc_id: ObjectId, event_ids: Iterable[str]) -> None:
        """Kafka has these events: drop them from the document with its next write, or on their own soon."""
        self._acked.setdefault(doc_id, set()).update(event_ids)
        if doc_id not in self._pull_due:
            self._pull_due[doc_id] = time.monotonic() + self._fold
            self._wake.set()

    # -- the loop --------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._wait_for_work(stop)
            ops, self._queue = self._queue[: self._batch], self._queue[self._batch :]
            if not self._queue:
                self._wake.clear()
            await self._round(ops)

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        if self._queue:
            self._mark_busy()
            return
        timeout = None
        if self._pull_due:
            timeout = max(0.0, next(iter(self._pull_due.values())) - time.monotonic())
        if timeout == 0.0:
            return
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        self._waiting_since = time.monotonic()
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
            if time.monotonic() - self._waiting_since >= IDLE_PAUSE:
                self._busy_since = None  # a long enough wait ends the busy stretch
            self._waiting_since = None
        self._wake.clear()
        self._mark_busy()

    def _mark_busy(self) -> None:
        if self._busy_since is None:
            self._busy_since = time.monotonic()

    def _enqueue(self, op: "_Insert | _Mutation[Any]") -> None:
        self._queue.append(op)
        self._wake.set()

    async def _round(self, ops: list["_Insert | _Mutation[Any]"]) -> None:
        self.rounds += 1
        inserts = [op for op in ops if isinstance(op, _Insert)]
        mutations = [op for op in ops if isinstance(op, _Mutation)]
        if inserts:
            await self._insert(inserts)
        mutations += self._due_pulls()
        if mutations:
            await self._mutate(mutations)

    async def _insert(self, inserts: list[_Insert]) -> None:
        started = time.perf_counter()
        try:
            failures = await self.repo.insert_many([i.doc for i in inserts])
        except Exception as exc:
            for i in inserts:
                _fail(i.done, exc)
            return
        finally:
            self.seconds["insert"] += time.perf_counter() - started
        for index, op in enumerate(inserts):
            if index in failures:
                _fail(op.done, failures[index])
                continue
            self.writes += 1
            self._remember(op.doc)
            self._notify(op.doc)
            _resolve(op.done, op.doc)

    def _due_pulls(self) -> list["_Mutation[None]"]:
        now = time.monotonic()
        due: list[_Mutation[None]] = []
        for doc_id, deadline in list(self._pull_due.items()):
            if deadline > now or len(due) >= self._batch:
                break
            del self._pull_due[doc_id]
            cached = self._cache.get(doc_id)
            if cached is not None and not cached.final and cached.saga.paso in PASOS_EN_CURSO:
                # A step is in flight: its reply (or the sweeper's re-send) writes the document anyway and takes the
                # acknowledged events out with it. Under a backlog replies take longer than the fold, and writes
                # of their own had added one write per saga (measured: 2,038 for 2,000 sagas).
                continue
            pull: _Mutation[None] = _Mutation(doc_id, _touch)
            pull.done.add_done_callback(_consume)  # nobody awaits a pull; a failure is re-scheduled instead
            due.append(pull)
        return due

    async def _mutate(self, mutations: list["_Mutation[Any]"]) -> None:
        by_doc: dict[ObjectId, list[_Mutation[Any]]] = {}
        for m in mutations:
            by_doc.setdefault(m.doc_id, []).append(m)
        missing = [i for i in by_doc if i not in self._cache]
        unreadable: set[ObjectId] = set()
        if missing:
            started = time.perf_counter()
            try:
                loaded = await self.repo.load(missing)
            except Exception as exc:
                for i in missing:
                    for m in by_doc[i]:
                        _fail(m.done, exc)
                unreadable = set(missing)
                loaded = {}
            self.seconds["load"] += time.perf_counter() - started
            for i, doc in loaded.items():
                if i not in self._cache:
                    self._remember(doc)
        now = ahora()
        to_write: dict[ObjectId, tuple[Transaccion, set[str]]] = {}
        results: list[tuple[_Mutation[Any], Any]] = []
        for doc_id, ops in by_doc.items():
            if doc_id in unreadable:
                continue
            current = self._cache.get(doc_id)
            if current is None:
                for m in ops:
                    _fail(m.done, TransaccionNoEncontrada(str(doc_id)))
                self._forget_acked(doc_id, self._acked.pop(doc_id, set()))
                continue
            # Published events leave the document with this write; the changes see it without them.
            present = {e["event_id"] for e in current.outbox}
            self._forget_acked(doc_id, self.acked(doc_id) - present)
            dropped = present & self.acked(doc_id)
            state = _without(current, dropped)
            changed = False
            for m in ops:
                try:
                    new, result = m.change(state)
                except Exception as exc:
                    _fail(m.done, exc)
                    continue
                if new is not None:
                    state, changed = new, True
                results.append((m, result))
            touched = any(m.change is _touch for m in ops)
            if changed or (touched and (dropped or doc_id in self._rewrite)):
                self._rewrite.discard(doc_id)
                to_write[doc_id] = (state.model_copy(update={"actualizada": now}), dropped)
        if to_write:
            started = time.perf_counter()
            try:
                await self.repo.replace_many([doc for doc, _ in to_write.values()])
            except Exception as exc:
                # Some writes of the bulk may have landed: forget those documents so the next access re-reads them.
                for doc_id in to_write:
                    forgotten = self._cache.pop(doc_id, None)
                    if forgotten is not None:
                        self._by_idem.pop(forgotten.idem, None)
                for m, _ in results:
                    if m.doc_id in to_write:
                        _fail(m.done, exc)
                results = [(m, r) for m, r in results if m.doc_id not in to_write]
                to_write = {}
            finally:
                self.seconds["replace"] += time.perf_counter() - started
        for doc_id, (doc, dropped) in to_write.items():
            self.writes += 1
            self._remember(doc)
            self._forget_acked(doc_id, dropped)
            self._notify(doc)
        for m, result in results:
            _resolve(m.done, result)
        retry_at = time.monotonic() + self._fold
        for doc_id in by_doc:
            if self._acked.get(doc_id) and doc_id not in self._pull_due:
                self._pull_due[doc_id] = retry_at  # not written this round (failure, or nothing else changed)

    def _forget_acked(self, doc_id: ObjectId, event_ids: set[str]) -> None:
        """These events are no longer in the document: nothing left to remove or to guard."""
        if not event_ids:
            return
        self.attempted.difference_update(event_ids)
        remaining = self._acked.get(doc_id, set()) - event_ids
        if remaining:
            self._acked[doc_id] = remaining
        else:
            self._acked.pop(doc_id, None)
            self._pull_due.pop(doc_id, None)

    # -- memory ----------------------------------------------------------------------------------------------

    def _remember(self, doc: Transaccion) -> None:
        self._cache[doc.id] = doc
        self._cache.move_to_end(doc.id)
        self._by_idem[doc.idem] = doc.id
        while len(self._cache) > self._cache_size:
            # Evict the least recently written; anything evicted is simply read again when needed.
            _, evicted = self._cache.popitem(last=False)
            self._by_idem.pop(evicted.idem, None)

    def _notify(self, doc: Transaccion) -> None:
        for listener in self._listeners:
            try:
                listener(doc)
            except Exception:
                log.exception("listener failed on %s", doc.transaccion_id)


def _touch(doc: Transaccion) -> tuple[None, None]:
    """The change of a write of its own: nothing but dropping the already-published events."""
    return None, None


def _without(doc: Transaccion, event_ids: set[str]) -> Transaccion:
    if not event_ids:
        return doc
    return doc.model_copy(update={"outbox": tuple(e for e in doc.outbox if e["event_id"] not in event_ids)})


def _consume(fut: "asyncio.Future[Any]") -> None:
    if not fut.cancelled():
        fut.exception()


def _resolve(fut: "asyncio.Future[Any]", value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _fail(fut: "asyncio.Future[Any]", exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
