"""Keeps sagas moving: re-sends a step whose reply is overdue, and finds pending work after a restart."""

import asyncio
import contextlib
import logging
from datetime import datetime

from bson import ObjectId

from services.transacciones import saga
from services.transacciones.domain import Transaccion, ahora
from services.transacciones.service import TransaccionesService

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self,
        service: TransaccionesService,
        *,
        stuck_after: float,
        max_interval: float,
        interval: float = 1.0,
        recovery_interval: float = 300.0,
    ) -> None:
        self._service = service
        self._stuck_after = stuck_after
        self._max_interval = max_interval
        self._interval = interval
        self._recovery_interval = recovery_interval
        self._due: dict[ObjectId, datetime] = {}
        self.resent = 0
        service.writer.subscribe(self.on_written, in_memory=True)  # a step kept in memory is in flight too

    def on_written(self, doc: Transaccion) -> None:
        """Writer listener: track when each saga in progress becomes overdue."""
        due = saga.vence(doc.saga, self._stuck_after, self._max_interval) if doc.estado == "PENDIENTE" else None
        if due is None:
            self._due.pop(doc.id, None)
        else:
            self._due[doc.id] = due

    def drop(self, doc_ids: set[ObjectId]) -> None:
        """Another instance runs these sagas now."""
        for doc_id in doc_ids:
            self._due.pop(doc_id, None)

    def tracked(self) -> list[ObjectId]:
        """The sagas in progress this instance runs."""
        return list(self._due)

    @property
    def in_progress(self) -> int:
        return len(self._due)

    async def sweep_once(self) -> int:
        if self._service.writer.busy_seconds() > max(self._stuck_after / 2, 1.0):
            # The writer has had work queued all along: replies are waiting their turn, not lost. A re-send now
            # would only add a command, a reply and a write per saga to the queue that makes them late (in a
            # bulk load that doubled the work). Lost steps are re-sent once the writer catches up.
            return 0
        now = ahora()
        overdue = [doc_id for doc_id, due in self._due.items() if due <= now]
        for doc_id in overdue:
            self._due.pop(doc_id, None)  # the re-send's write registers it again with its next deadline
        if overdue:
            log.info("re-sending %d stuck saga steps", len(overdue))
            results = await asyncio.gather(*(self._service.reenviar(i) for i in overdue), return_exceptions=True)
            for doc_id, result in zip(overdue, results, strict=True):
                if isinstance(result, BaseException):
                    log.warning("re-send of %s failed: %r; will retry", doc_id, result)
                    self._due.setdefault(doc_id, now)
            self.resent += len(overdue)
        return len(overdue)

    async def recover(self, partitions: set[int] | None = None) -> int:
        """Read every document with unpublished events or a saga in progress into the writer (which announces
        them to the relay and to this sweeper). Start-up always does this: a killed process leaves such work.
        Only the sagas this instance owns (of `partitions`, when given: those just taken over)."""
        docs = await self._service.writer.repo.pending()
        ownership = self._service.ownership
        if ownership is not None:
            docs = [
                d
                for d in docs
                if ownership.owns(d.id) and (partitions is None or ownership.partition(d.id) in partitions)
            ]
        self._service.writer.adopt(docs)
        if docs:
            log.info("recovered %d transactions with pending work", len(docs))
        return len(docs)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.sweep_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)

    async def run_recovery(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._recovery_interval)
            if not stop.is_set():
                await self.recover()
