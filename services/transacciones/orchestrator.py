"""The saga orchestrator's consumer side: replies from cuentas (bank.cuentas.v1) advance the sagas.

Group `transacciones.saga`. Only SaldoActualizado / MovimientoRechazado that name a transaccion_id matter; the
rest of the topic (openings, teller operations, state changes) is skipped without decoding. Idempotent: a
reply the saga is not waiting for (duplicate, late) decides nothing, checked in the same single-document write.
"""

import asyncio
from collections.abc import Sequence

from consumers.handler import Delivery
from contracts.cuentas import MovimientoRechazado, SaldoActualizado
from services.transacciones import saga
from services.transacciones.service import TransaccionesService

GROUP_ID = "transacciones.saga"
REPLY_TYPES = frozenset({SaldoActualizado.type, MovimientoRechazado.type})


class Orquestador:
    def __init__(self, service: TransaccionesService) -> None:
        self._service = service

    async def handle(self, delivery: Delivery) -> None:
        await self.handle_batch([delivery])

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """A partition's batch at once: its writes share the writer's rounds (one bulk write per round)."""
        jobs = []
        for delivery in deliveries:
            env = delivery.envelope
            if env.type not in REPLY_TYPES or not env.data.get("transaccion_id"):
                continue
            found = saga.respuesta_de(env.decode())
            if found is not None:
                jobs.append(self._service.aplicar_respuesta(found[0], found[1], env.id))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result  # the runner retries (or handles one by one); applied replies are no-ops again
