"""Kafka handler of the cuentas projection: each batch of a partition applied in one transaction with its inbox
records, so a redelivered event changes nothing (idempotent) and offsets are committed only after the effect."""

from collections.abc import Sequence

import asyncpg

from consumers.handler import Delivery
from consumers.inbox import first_time_postgres
from services.clientes.projection import CONSUMER, cambio_for
from services.clientes.repository import apply_cambio_cuenta


class CuentasProjector:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def handle(self, delivery: Delivery) -> None:
        await self.handle_batch([delivery])

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        # Decode everything first: a malformed event fails the batch before any write, and the runner then
        # retries one by one so that only the bad event goes to the DLQ.
        cambios = [(d.envelope.id, cambio_for(d.envelope)) for d in deliveries]
        async with self._pool.acquire() as conn, conn.transaction():
            for event_id, cambio in cambios:
                if cambio is not None and await first_time_postgres(conn, CONSUMER, event_id):
                    await apply_cambio_cuenta(conn, cambio)
