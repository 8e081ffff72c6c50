"""The saga orchestrator's consumer side: replies from cuentas (bank.cuentas.v1) advance the sagas.

Every instance reads every reply, in a group of its own (`transacciones.respuestas.<instance>`, so a restarted
instance resumes where it stopped): it applies the replies of the sagas it owns (ownership.py) and keeps the others
for their owner (respuestas.py). Only SaldoActualizado / MovimientoRechazado that name a transaccion_id matter; the
rest of the topic (openings, teller operations, state changes) is skipped without decoding. Idempotent: a
reply the saga is not waiting for (duplicate, late) decides nothing, checked in the same single-document write.
"""

import asyncio
from collections.abc import Sequence

from consumers.handler import Delivery
from contracts.cuentas import MovimientoRechazado, SaldoActualizado
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
        replies: list[tuple[str, saga.Respuesta, str]] = []
        for delivery in deliveries:
            env = delivery.envelope
            if env.type not in REPLY_TYPES or not env.data.get("transaccion_id"):
                continue
            found = saga.respuesta_de(env.decode())
            if found is not None:
                replies.append((found[0], found[1], env.id))
        if not replies:
            return
        ownership = self._service.ownership
        if ownership is None:
            await self._apply(replies)
            return
        # The owned set does not change while a batch is handled: a take-over looks for kept replies after it.
        async with ownership.steady():
            mine = [r for r in replies if (oid := object_id_de(r[0])) is not None and ownership.owns(oid)]
            others = [r for r in replies if r not in mine]
            others += await self._apply(mine)
            if others and self._service.respuestas is not None:
                await self._service.respuestas.guardar(others)

    async def _apply(self, replies: list[tuple[str, saga.Respuesta, str]]) -> list[tuple[str, saga.Respuesta, str]]:
        """Apply these replies; returns those fenced on the way (their saga is another instance's now)."""
        jobs = [self._service.aplicar_respuesta(*r) for r in replies]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        fenced = []
        for reply, result in zip(replies, results, strict=True):
            if isinstance(result, Fenced):
                fenced.append(reply)
            elif isinstance(result, BaseException):
                raise result  # the runner retries (or handles one by one); applied replies are no-ops again
        return fenced
