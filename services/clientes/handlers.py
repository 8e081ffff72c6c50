"""Kafka handler of the cuentas projection: each batch (a whole poll, all its partitions) applied in one transaction
with its inbox records, so a redelivered event changes nothing (idempotent) and offsets are committed only after the
effect."""

from collections.abc import Sequence

import asyncpg

from consumers.handler import Delivery
from consumers.inbox import first_times_postgres
from services.clientes.projection import CONSUMER, cambio_for
from services.clientes.repository import apply_cambios_cuenta


class CuentasProjector:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def handle(self, delivery: Delivery) -> None:
        await self.handle_batch([delivery])

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        # Decode everything first: a malformed event fails the batch before any write, and the runner then
        # retries one by one so that only the bad event goes to the DLQ.
        cambios = [(d.envelope.id, c) for d in deliveries if (c := cambio_for(d.envelope)) is not None]
        if not cambios:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            # One inbox statement for the batch, then the new events' changes in their order (a redelivered event
            # and the second copy of an id within the batch change nothing).
            nuevos = await first_times_postgres(conn, CONSUMER, [event_id for event_id, _ in cambios])
            aplicar = []
            for event_id, cambio in cambios:
                if event_id in nuevos:
                    nuevos.discard(event_id)
                    aplicar.append(cambio)
            await apply_cambios_cuenta(conn, aplicar)
