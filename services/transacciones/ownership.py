"""Which sagas this instance may write: the partitions of bank.transacciones.v1 its consumer group gave it, each
held under an epoch bumped in Mongo (`particiones`), so a rebalance fences the previous owner.

A saga belongs to partition murmur2(transaccion_id) % N — Kafka's default partitioner, so it is the partition its
own events land in. The group (`transacciones.sagas`) is only a membership protocol: its consumers stay paused.
On assignment an instance bumps each partition's epoch (`{_id: p, generacion, owner, url}`, one atomic $inc each);
the writer checks the epochs with one read of that small collection before a round (a check younger than
`check_ttl` seconds stands), and a partition whose stored epoch moved on is fenced: its writes fail with Fenced and
the instance forgets it. Every written document carries the epoch it was written under (`generacion`). A new
owner waits `grace` seconds after its bump before it reads or writes the partition, so a write checked just before
the bump (up to `check_ttl` earlier) lands before it reads; a write that stalls longer than that is the window
fencing without an atomic conditional write cannot close.

Why a read per round and not a filter per document: FerretDB 1.x answers only a bare `_id` filter by index (any
other condition scans the collection; a fenced replace cost 55 ms against 22 ms) and evaluates a filter outside
its write transaction anyway, so a per-document condition would not even be atomic there.

`solo` (no group: a process without workers, a test app on its own database) owns every partition unfenced.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from producers.partitioner import partition_for
from services.transacciones.domain import transaccion_id_de

log = logging.getLogger(__name__)

COLLECTION = "particiones"
GROUP_ID = "transacciones.sagas"
NEW_ID_TRIES = 10_000  # with one partition owned out of N, a fresh ObjectId lands in it 1/N of the time

Lost = Callable[[set[int]], None]
"""Forget the in-memory state of these partitions' documents (another instance may write them now)."""
Acquired = Callable[[set[int], set[int]], Awaitable[None]]
"""(partitions taken over from another owner, every partition held): adopt their durable state."""


class Holder(NamedTuple):
    """A saga partition's stored holder: its epoch, where it answers (None: this instance) and since when."""

    epoch: int
    url: str | None
    desde: datetime | None


def partition_of(transaccion_id: str, partitions: int) -> int:
    """Kafka's default partitioner (murmur2 of the key bytes, positive, modulo the partition count)."""
    return partition_for(transaccion_id.encode(), partitions)


class Ownership:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]] | None,
        *,
        instance: str,
        partitions: int,
        solo: bool = False,
        grace: float = 2.0,
        check_ttl: float = 0.5,
        url: str | None = None,
    ) -> None:
        self._coll = db[COLLECTION] if db is not None else None
        self.instance = instance
        self.url = url  # where the other instances reach this one (stored with each partition it holds)
        self.partitions = partitions
        self.solo = solo
        self._grace = grace
        self._check_ttl = min(check_ttl, grace / 2)
        self._checked_at = -1e9  # monotonic time of the last read that found every held epoch current
        self.epochs: dict[int, int] = dict.fromkeys(range(partitions), 0) if solo else {}
        self._last: dict[int, int] = {}  # the epoch each partition had under this instance, while its memory holds
        self._settled = asyncio.Event()
        if solo:
            self._settled.set()
        self._lost: list[Lost] = []
        self._acquired: list[Acquired] = []
        self._changing = asyncio.Lock()  # held while epochs change, and by the writer's check
        self._tasks: set[asyncio.Task[None]] = set()
        self.rebalances = 0
        self.fenced = 0

    # -- wiring ------------------------------------------------------------------------------------------------------

    def on_lost(self, listener: Lost) -> None:
        self._lost.append(listener)

    def on_acquired(self, listener: Acquired) -> None:
        self._acquired.append(listener)

    # -- questions -----------------------------------------------------------------------------------------------------

    def partition(self, doc_id: ObjectId) -> int:
        return partition_of(transaccion_id_de(doc_id), self.partitions)

    def owns(self, doc_id: ObjectId) -> bool:
        return self.partition(doc_id) in self.epochs

    def epoch(self, partition: int) -> int | None:
        return self.epochs.get(partition)

    def new_id(self) -> ObjectId | None:
        """A fresh document id whose saga this instance owns, so the instance that answers a POST also runs its
        saga (no hand-over, no added latency). None while it owns no partition."""
        if not self.epochs:
            return None
        for _ in range(NEW_ID_TRIES):
            oid = ObjectId()
            if self.partition(oid) in self.epochs:
                return oid
        return None

    async def owner_url(self, doc_id: ObjectId) -> str | None:
        """Where the instance holding this saga's partition answers (None: unknown, or this instance)."""
        if self._coll is None:
            return None
        row = await self._coll.find_one({"_id": self.partition(doc_id)})
        if row is None or row.get("owner") == self.instance:
            return None
        url = row.get("url")
        return str(url) if url else None

    async def holder(self, doc_id: ObjectId) -> Holder | None:
        """Who holds this saga's partition as stored (url None when this instance does, or no url is known); None
        without a store or before anyone held it."""
        if self._coll is None:
            return None
        row = await self._coll.find_one({"_id": self.partition(doc_id)})
        if row is None:
            return None
        url = row.get("url") if row.get("owner") != self.instance else None
        desde = row.get("desde")
        if isinstance(desde, datetime) and desde.tzinfo is None:
            desde = desde.replace(tzinfo=UTC)  # BSON dates come back naive, in UTC
        return Holder(int(row.get("generacion", 0)), str(url) if url else None, desde)

    async def otras(self, quietas_desde: datetime) -> set[str] | None:
        """Where the other instances holding saga partitions answer; None when that cannot be told for sure: no
        store, a partition held elsewhere with no stored url, or one that changed hands since `quietas_desde` (its
        new holder may not have adopted its documents yet). One read of the small partitions collection."""
        if self._coll is None:
            return None
        urls: set[str] = set()
        async for row in self._coll.find({}):
            desde = row.get("desde")
            if isinstance(desde, datetime) and desde.tzinfo is None:
                desde = desde.replace(tzinfo=UTC)  # BSON dates come back naive, in UTC
            if not isinstance(desde, datetime) or desde >= quietas_desde:
                return None
            if row.get("owner") == self.instance:
                continue
            url = row.get("url")
            if not url:
                return None
            urls.add(str(url))
        return urls

    async def wait_owned(self, timeout: float) -> bool:
        """Wait (during a rebalance) until this instance holds some partition."""
        deadline = time.monotonic() + timeout
        while not self.epochs:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), min(left, 0.2))
        return True

    # -- the fence (the writer's check) ---------------------------------------------------------------------------------

    async def check(self, partitions: set[int]) -> set[int]:
        """The partitions among these this instance may not write now (not held, or fenced by a newer epoch); one
        read of `particiones` checks every held partition at once. A fenced partition is forgotten here."""
        async with self._changing:  # not while this instance's own bumps are half done
            refused = {p for p in partitions if p not in self.epochs}
            held = partitions - refused
            if self.solo or not held or self._coll is None:
                return refused
            if time.monotonic() - self._checked_at < self._check_ttl:
                return refused
            read_at = time.monotonic()
            stored = {int(d["_id"]): int(d["generacion"]) async for d in self._coll.find({})}
            fenced = {p for p, e in self.epochs.items() if stored.get(p) != e}
            if fenced:
                self.fenced += 1
                log.warning("fenced on partitions %s (stored epochs %s)", sorted(fenced), stored)
                self._drop(fenced)
            self._checked_at = read_at  # what is still held was current at read_at
            return refused | (fenced & held)

    # -- the group's decisions ------------------------------------------------------------------------------------------

    def revoked(self, partitions: set[int]) -> None:
        """A rebalance begins. Nothing stops: this instance keeps writing what it holds until the new assignment
        (the group's rebalance is stop-the-world otherwise, for as long as a dead member's session lasts); whoever
        is given a partition bumps its epoch, which fences this instance's next write of it."""
        log.info("rebalance: partitions %s revoked; writing them until the new assignment", sorted(partitions))

    async def assign(self, partitions: set[int]) -> None:
        """Assigned: bump each partition's epoch, forget what another owner may have changed, adopt it."""
        assert self._coll is not None
        self.rebalances += 1
        async with self._changing:
            bumped: dict[int, int] = {}
            for p in sorted(partitions):
                doc = await self._coll.find_one_and_update(
                    {"_id": p},
                    {
                        "$inc": {"generacion": 1},
                        "$set": {"owner": self.instance, "url": self.url, "desde": datetime.now(UTC)},
                    },
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                assert doc is not None
                bumped[p] = int(doc["generacion"])
            # Kept: partitions nobody else held since this instance last did (epoch exactly one more): its memory
            # of them is true and it goes on writing them. The others it forgets (lost, or held by another meanwhile).
            kept = {p for p, e in bumped.items() if self._last.get(p) == e - 1}
            taken = set(partitions) - kept
            stale = (set(self._last) | set(self.epochs)) - kept
            if stale:
                self._drop(stale)
            self.epochs = {p: bumped[p] for p in kept}
            self._last = dict(self.epochs)
            self._checked_at = -1e9
        if taken:
            # A previous owner's round checked just before the bump may still land: let it, then take them.
            await asyncio.sleep(self._grace)
            async with self._changing:
                self.epochs.update({p: bumped[p] for p in taken})
                self._last.update({p: bumped[p] for p in taken})
                self._checked_at = -1e9
        if self.epochs:
            self._settled.set()
        log.info("partitions %s (epochs %s); taken over: %s", sorted(partitions), bumped, sorted(taken))
        # Adopting reads storage: in the background, so the group's callback (and its heartbeats) is not held up.
        for listener in self._acquired:
            task = asyncio.create_task(_logged(listener(taken, set(partitions))))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _drop(self, partitions: set[int]) -> None:
        for p in partitions:
            self.epochs.pop(p, None)
            self._last.pop(p, None)
        for listener in self._lost:
            listener(set(partitions))


async def _logged(work: Awaitable[None]) -> None:
    try:
        await work
    except Exception:
        log.exception("adopting taken-over partitions failed; the periodic recovery scan picks them up")
