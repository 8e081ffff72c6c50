"""The single writer of transaction documents: every insert and change of a document goes through its loop.

Why one writer: FerretDB 1.x evaluates an update's filter outside its write transaction, so two concurrent
conditional updates of one document can both "match" and the second silently overwrites the first. Here each
change is a pure function of the document's latest state, applied in order in this process, and each round of
changes is one bulk write (plus one bulk insert for new documents). What was written stays in memory (cache.py),
so the hot path reads nothing back. The outbox (outbox.py) takes part in every write: acknowledged events leave
the document with it, and it asks for a write of their own when nothing else writes the document soon.

Kept, not written: a change made with `defer` whose new state passes it stays in memory until the document's next
write (a transfer's step from its debit to its credit: the saga's caller derives that state again from the replies
Kafka keeps, replay.py, should this process die or lose the partition first). It stands on the durable state it was
made from; when a failed write leaves it unknown whether a later state landed, the stored copy read next decides.

Several instances: each writes only the documents of the saga partitions it holds (ownership.py, the `fence`);
every round first checks, with one read, that it still holds the round's partitions, and stamps what it writes
with the partition's epoch. A partition lost or fenced is forgotten here (`drop`), and read again if it comes back.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from bson import ObjectId

from services.transacciones.cache import DocumentCache
from services.transacciones.domain import Transaccion, ahora
from services.transacciones.errors import Fenced, TransaccionNoEncontrada
from services.transacciones.repository import Repository

log = logging.getLogger(__name__)

T = TypeVar("T")
Change = Callable[[Transaccion], tuple[Transaccion | None, T]]
"""A change: the document's next state (None: leave it as it is) and a result for the caller. Runs inside the
writer loop, so it must not block; raising rejects this change only."""
Listener = Callable[[Transaccion], None]
Defer = Callable[[Transaccion], bool]
"""Whether a change's new state may stay in memory until the document's next write (see the module docstring)."""
Footing = tuple[datetime, str, str, str | None, int]
"""What tells one durable state of a document from the next (each write stamps `actualizada`)."""
IDLE_PAUSE = 0.2
"""A wait for work at least this long means the writer keeps up (a shorter one is the gap between two batches
of a consumer that waits for its writes)."""


class OutboxPart(Protocol):
    """The outbox's part in the writer's rounds (outbox.DocumentOutbox)."""

    def trim(self, doc: Transaccion) -> Transaccion:
        """The document as its next write stores it (acknowledged events out); changes see it this way."""
        ...

    def written(self, doc: Transaccion) -> None:
        """`doc` is the document's newest state (written, or kept in memory until its next write)."""
        ...

    def round_over(self, doc_id: ObjectId) -> None:
        """The document was in this round (written or not)."""
        ...

    def gone(self, doc_id: ObjectId) -> None:
        """No such document."""
        ...

    def next_due(self) -> float | None:
        """When (monotonic) the next document needs a write of its own."""
        ...

    def due(self, limit: int) -> list[ObjectId]:
        """Documents that need a write of their own now."""
        ...

    def drop(self, doc_ids: set[ObjectId]) -> None:
        """Another instance writes these documents now: forget them."""
        ...


class Fence(Protocol):
    """Which documents this instance may write (ownership.Ownership)."""

    def partition(self, doc_id: ObjectId) -> int: ...

    def epoch(self, partition: int) -> int | None: ...

    async def check(self, partitions: set[int]) -> set[int]:
        """The partitions among these that may not be written now."""
        ...


class _NoFence:
    def partition(self, doc_id: ObjectId) -> int:
        return 0

    def epoch(self, partition: int) -> int | None:
        return 0

    async def check(self, partitions: set[int]) -> set[int]:
        return set()


class _NoOutbox:
    def trim(self, doc: Transaccion) -> Transaccion:
        return doc

    def written(self, doc: Transaccion) -> None:
        return None

    def round_over(self, doc_id: ObjectId) -> None:
        return None

    def gone(self, doc_id: ObjectId) -> None:
        return None

    def next_due(self) -> float | None:
        return None

    def due(self, limit: int) -> list[ObjectId]:
        return []

    def drop(self, doc_ids: set[ObjectId]) -> None:
        return None


@dataclass
class _Insert:
    doc: Transaccion
    done: asyncio.Future[Transaccion]


@dataclass
class _Mutation(Generic[T]):
    doc_id: ObjectId
    change: Change[T]
    defer: Defer | None = None
    done: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class DocumentWriter:
    def __init__(
        self, repo: Repository, *, batch: int = 500, cache_size: int = 100_000, fence: Fence | None = None
    ) -> None:
        self.repo = repo
        self.fence: Fence = fence or _NoFence()
        self.cache = DocumentCache(repo, cache_size)
        self._outbox: OutboxPart = _NoOutbox()
        self._batch = batch
        self._queue: list[_Insert | _Mutation[Any]] = []
        self._wake = asyncio.Event()
        self._listeners: list[Listener] = []
        self._memory_listeners: list[Listener] = []  # also told of the states kept in memory
        # Kept in memory, not written yet: the newest state and the footing of the durable one it was made from.
        self._unwritten: dict[ObjectId, tuple[Transaccion, Footing]] = {}
        self._rewrite: list[ObjectId] = []  # recovered documents to be written again (to finish archiving them)
        self._busy_since: float | None = None  # start of the current stretch of rounds without an idle pause
        self._waiting_since: float | None = None  # start of the current wait for work
        self.rounds = 0
        self.writes = 0
        self.kept = 0  # new states kept in memory instead of written
        # Time spent in storage: "fence" is the check of the round's partition epochs.
        self.seconds: dict[str, float] = {"fence": 0.0, "insert": 0.0, "load": 0.0, "replace": 0.0}

    # -- API for callers -------------------------------------------------------------------------------------

    def attach(self, outbox: OutboxPart) -> None:
        """The outbox of the documents this writer writes (it attaches itself when built)."""
        self._outbox = outbox

    def subscribe(self, listener: Listener, *, in_memory: bool = False) -> None:
        """`listener(doc)` runs after every durable write of `doc` (insert or change); with `in_memory`, also for
        every new state kept in memory."""
        (self._memory_listeners if in_memory else self._listeners).append(listener)

    def latest(self, doc_id: ObjectId) -> Transaccion | None:
        """The newest state of the document in this process, kept in memory or durable (None: not in memory)."""
        kept = self._unwritten.get(doc_id)
        return kept[0] if kept is not None else self.cache.latest(doc_id)

    def wake(self) -> None:
        """Something became due: look again (the outbox calls this)."""
        self._wake.set()

    async def insert(self, doc: Transaccion) -> Transaccion:
        """Write a new document; raises repository.DuplicateIdem when its idempotency key is taken."""
        done: asyncio.Future[Transaccion] = asyncio.get_running_loop().create_future()
        self._enqueue(_Insert(doc, done))
        return await done

    async def mutate(self, doc_id: ObjectId, change: Change[T], *, defer: Defer | None = None) -> T:
        """Apply `change` to the latest state of the document and write it; returns the change's result. A new
        state that `defer` accepts is kept in memory instead, when no other change of the round needs a write.
        Raises TransaccionNoEncontrada for an unknown id."""
        op: _Mutation[T] = _Mutation(doc_id, change, defer)
        self._enqueue(op)
        return await op.done

    def adopt(self, docs: Iterable[Transaccion]) -> None:
        """Take documents read at recovery into memory (unless a newer write is already there) and announce them."""
        for doc in docs:
            if self.cache.latest(doc.id) is None:
                self.cache.remember(doc)
                self._notify(doc)
                if doc.final and not doc.outbox:
                    # A crash between archiving it and removing the in-progress copy: write it again to finish.
                    self._rewrite.append(doc.id)
                    self._wake.set()

    def drop(self, partitions: set[int]) -> set[ObjectId]:
        """Forget every document of these partitions (another instance may write them now); returns their ids."""
        ids = {
            i for i in [*self.cache.ids(), *self._unwritten, *self._rewrite] if self.fence.partition(i) in partitions
        }
        self._rewrite = [i for i in self._rewrite if i not in ids]
        for doc_id in ids:
            self.cache.forget(doc_id)
            self._unwritten.pop(doc_id, None)
        self._outbox.drop(ids)
        return ids

    def busy_seconds(self) -> float:
        """How long the writer has gone from round to round without pausing for IDLE_PAUSE (0 when idle)."""
        now = time.monotonic()
        if self._busy_since is None or (self._waiting_since is not None and now - self._waiting_since >= IDLE_PAUSE):
            return 0.0
        return now - self._busy_since

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
        due = self._outbox.next_due()
        if self._rewrite:
            timeout = 0.0
        elif due is not None:
            timeout = max(0.0, due - time.monotonic())
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
        ops = await self._fenced([*ops, *self._writes_of_their_own()])
        inserts = [op for op in ops if isinstance(op, _Insert)]
        mutations = [op for op in ops if isinstance(op, _Mutation)]
        if inserts:
            await self._insert(inserts)
        if mutations:
            await self._mutate(mutations)

    async def _fenced(self, ops: list["_Insert | _Mutation[Any]"]) -> list["_Insert | _Mutation[Any]"]:
        """The ops this instance may write now; the others fail with Fenced (one epoch check for the round)."""
        partitions = {self.fence.partition(_doc_id(op)) for op in ops}
        started = time.perf_counter()
        try:
            refused = await self.fence.check(partitions)
        except Exception as exc:
            for op in ops:
                _fail(op.done, exc)
            return []
        finally:
            self.seconds["fence"] += time.perf_counter() - started
        if not refused:
            return ops
        self.drop(refused)  # what is in memory of those documents may be older than what their owner writes
        allowed: list[_Insert | _Mutation[Any]] = []
        for op in ops:
            if self.fence.partition(_doc_id(op)) in refused:
                _fail(op.done, Fenced(refused))
            else:
                allowed.append(op)
        return allowed

    def _stamp(self, doc: Transaccion) -> Transaccion:
        """`doc` as written now: under its partition's current epoch."""
        epoch = self.fence.epoch(self.fence.partition(doc.id)) or 0
        return doc if doc.generacion == epoch else doc.model_copy(update={"generacion": epoch})

    async def _insert(self, inserts: list[_Insert]) -> None:
        for op in inserts:
            op.doc = self._stamp(op.doc)
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
            self.cache.remember(op.doc)
            self._notify(op.doc)
            _resolve(op.done, op.doc)

    def _writes_of_their_own(self) -> list["_Mutation[None]"]:
        """Documents written for nothing but the outbox's acknowledged events, or to finish archiving them."""
        rewrites, self._rewrite = self._rewrite[: self._batch], self._rewrite[self._batch :]
        ops = [_Mutation(doc_id, _same) for doc_id in rewrites]
        ops += [_Mutation(doc_id, _touch) for doc_id in self._outbox.due(self._batch - len(ops))]
        for op in ops:
            op.done.add_done_callback(_consume)  # nobody awaits these; the outbox re-schedules a failure
        return ops

    async def _mutate(self, mutations: list["_Mutation[Any]"]) -> None:
        by_doc: dict[ObjectId, list[_Mutation[Any]]] = {}
        for m in mutations:
            by_doc.setdefault(m.doc_id, []).append(m)
        missing = [i for i in by_doc if self.cache.latest(i) is None]
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
                if self.cache.latest(i) is None:
                    self.cache.remember(doc)
        now = ahora()
        to_write: dict[ObjectId, Transaccion] = {}
        to_keep: dict[ObjectId, tuple[Transaccion, Transaccion]] = {}  # the state kept, the durable one under it
        results: list[tuple[_Mutation[Any], Any]] = []
        for doc_id, ops in by_doc.items():
            if doc_id in unreadable:
                continue
            current = self._current(doc_id)
            if current is None:
                for m in ops:
                    _fail(m.done, TransaccionNoEncontrada(str(doc_id)))
                self._outbox.gone(doc_id)
                continue
            state = trimmed = self._outbox.trim(current)
            changers: list[_Mutation[Any]] = []
            for m in ops:
                try:
                    new, result = m.change(state)
                except Exception as exc:
                    _fail(m.done, exc)
                    continue
                if new is not None:
                    state = new
                    changers.append(m)
                results.append((m, result))
            touched = any(m.change is _touch for m in ops)
            if changers and all(m.defer is not None and m.defer(state) for m in changers):
                durable = self.cache.latest(doc_id)
                assert durable is not None  # _current found it
                to_keep[doc_id] = (state, durable)
            elif changers or (touched and trimmed is not current):
                to_write[doc_id] = self._stamp(state.model_copy(update={"actualizada": now}))
        if to_write:
            started = time.perf_counter()
            try:
                await self.repo.replace_many(list(to_write.values()))
            except Exception as exc:
                # Some writes of the bulk may have landed: forget those documents so the next access re-reads them.
                for doc_id in to_write:
                    self.cache.forget(doc_id)
                for m, _ in results:
                    if m.doc_id in to_write:
                        _fail(m.done, exc)
                results = [(m, r) for m, r in results if m.doc_id not in to_write]
                to_write = {}
            finally:
                self.seconds["replace"] += time.perf_counter() - started
        for doc in to_write.values():
            self.writes += 1
            self._unwritten.pop(doc.id, None)
            if doc.final and not doc.archivada:
                doc = doc.model_copy(update={"archivada": True})  # repository.replace_many archived it
            self.cache.remember(doc)
            self._notify(doc)
        for doc_id, (state, durable) in to_keep.items():
            if self.cache.latest(doc_id) is durable:  # else dropped while this round wrote: its new owner derives it
                self._keep(state, durable)
        for m, result in results:
            _resolve(m.done, result)
        for doc_id in by_doc:
            self._outbox.round_over(doc_id)

    def _current(self, doc_id: ObjectId) -> Transaccion | None:
        """The state a change applies to: the one kept in memory, while the durable one it was made from is still
        the stored one (after a failed write, a later state may have landed: then that one)."""
        durable = self.cache.latest(doc_id)
        kept = self._unwritten.get(doc_id)
        if kept is None or durable is None:
            return durable
        state, footing = kept
        if _footing(durable) == footing:
            return state
        del self._unwritten[doc_id]  # a write whose outcome was unknown landed: it carried this state on
        return durable

    def _keep(self, doc: Transaccion, durable: Transaccion) -> None:
        self._unwritten[doc.id] = (doc, _footing(durable))
        self.kept += 1
        self._outbox.written(doc)
        self._tell(self._memory_listeners, doc)

    def _notify(self, doc: Transaccion) -> None:
        self._outbox.written(doc)
        self._tell(self._listeners, doc)
        self._tell(self._memory_listeners, doc)

    @staticmethod
    def _tell(listeners: list[Listener], doc: Transaccion) -> None:
        for listener in listeners:
            try:
                listener(doc)
            except Exception:
                log.exception("listener failed on %s", doc.transaccion_id)


def _footing(doc: Transaccion) -> Footing:
    stamped = doc.actualizada if doc.actualizada.tzinfo else doc.actualizada.replace(tzinfo=UTC)
    return (stamped, doc.estado, doc.saga.paso, doc.saga.comando_id, doc.saga.intentos)


def _doc_id(op: "_Insert | _Mutation[Any]") -> ObjectId:
    return op.doc.id if isinstance(op, _Insert) else op.doc_id


def _touch(doc: Transaccion) -> tuple[None, None]:
    """The change of a write for the outbox: nothing but dropping the already-published events."""
    return None, None


def _same(doc: Transaccion) -> tuple[Transaccion, None]:
    """The change of a rewrite: the document as it is (written again, it is archived)."""
    return doc, None


def _consume(fut: "asyncio.Future[Any]") -> None:
    if not fut.cancelled():
        fut.exception()


def _resolve(fut: "asyncio.Future[Any]", value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _fail(fut: "asyncio.Future[Any]", exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
