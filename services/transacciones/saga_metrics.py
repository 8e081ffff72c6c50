"""Saga duration and outcome for /metrics: a writer listener that sees each transaction reach its final state."""

import logging
from collections import OrderedDict

from bson import ObjectId

from services.platform import metrics
from services.transacciones.domain import Transaccion

log = logging.getLogger(__name__)

REMEMBERED = 10_000  # final documents remembered, so the later writes of one (its outbox trimmed) count it once


class SagaMetrics:
    """Observes creation → final state once per transaction (the write that made it final carries its final event,
    so a document already final and fully published, re-read after a restart, is not counted again)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[ObjectId, None] = OrderedDict()

    def on_written(self, doc: Transaccion) -> None:
        if not doc.final or not doc.outbox or doc.id in self._seen:
            return
        self._seen[doc.id] = None
        if len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        try:
            metrics.saga_finished(doc.estado, (doc.actualizada - doc.fecha).total_seconds())
        except (TypeError, ValueError) as exc:  # a listener must never break the writer's round
            log.warning("saga metrics: %s not measured: %r", doc.transaccion_id, exc)
