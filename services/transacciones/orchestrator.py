"""The saga orchestrator's consumer side: replies from cuentas (bank.cuentas.v1) advance the sagas.

Every instance reads every reply, in a group of its own (`transacciones.respuestas.<instance>`, so a restarted
instance resumes where it stopped), and applies the replies of the sagas it owns (ownership.py); a partition's new
owner reads again what it skipped (replay.py). Only SaldoActualizado / MovimientoRechazado that name a transaccion_id matter; the
rest of the topic (openings, teller operations, state changes) is skipped without decoding. Idempotent: a
reply the saga is not waiting for (duplicate, late) decides nothing, checked in the same single-document write.
"""

import asyncio
from collections.abc import Sequence

from consumers.handler import Delivery
from contracts.cuentas import MovimientoRechazado, SaldoActualizado
from contracts.envelope import Envelope
from services.transacciones import saga
from services.transacciones.domain import object_id_de
from services.transacciones.errors import Fenced
from services.transacciones.service import TransaccionesService

GROUP_PREFIX = "transacciones.respuestas."
REPLY_TYPES = frozenset({SaldoActualizado.type, MovimientoRechazado.type})


def group_id(instance: str) -> str:
    """This instance's own group over the replies (every instance reads all of them)."""
    return GROUP_PREFIX + instance


class Orquestador:
    def __init__(self, service: TransaccionesService) -> None:
        self._service = service

    async def handle(self, delivery: Delivery) -> None:
        await self.handle_batch([delivery])

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """A partition's batch at once: its writes share the writer's rounds (one bulk write per round)."""
        await self.apply([d.envelope for d in deliveries])

    async def apply(self, envelopes: Sequence[Envelope], partitions: set[int] | None = None) -> int:
        """Apply the replies among these that belong to sagas this instance owns (of `partitions`, when given);
        a reply for a saga that went to another instance meanwhile (Fenced) is that instance's to replay."""
        ownership = self._service.ownership
        jobs = []
        for env in envelopes:
            if env.type not in REPLY_TYPES or not (transaccion_id := env.data.get("transaccion_id")):
                continue
            oid = object_id_de(str(transaccion_id))
            if oid is None or (ownership is not None and not ownership.owns(oid)):
                continue
            if partitions is not None and ownership is not None and ownership.partition(oid) not in partitions:
                continue
            found = saga.respuesta_de(env.decode())
            if found is not None:
                jobs.append(self._service.aplicar_respuesta(found[0], found[1], env.id))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Fenced):
                raise result  # the runner retries (or handles one by one); applied replies are no-ops again
        return len(jobs)
