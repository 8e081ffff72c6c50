"""Applying saga commands (DebitarCuenta / AcreditarCuenta / RevertirDebito): a batch of them in ONE transaction
with their dedupe records, the balance changes, one ledger row each and one reply event each."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import aiomysql

from consumers.errors import PermanentError
from contracts.comandos import AcreditarCuenta, DebitarCuenta, RevertirDebito
from contracts.envelope import Envelope
from producers.outbox_mysql import add_to_outbox
from services.cuentas import db, events, saga
from services.cuentas import repository as repo

log = logging.getLogger(__name__)

CONSUMER: Final = "cuentas.comandos"
ID_MAX_LEN: Final = 64  # inbox.message_id / movimientos.comando_id
TRANSACCION_MAX_LEN: Final = 100


@dataclass(frozen=True)
class ComandoRecibido:
    comando: saga.Comando
    envelope: Envelope


class OtroConsumidorLoRegistro(Exception):
    """Another instance recorded one of these commands while we worked (rebalance overlap): roll back, retry."""


def decodificar(envelope: Envelope) -> ComandoRecibido:
    """The typed command, or PermanentError (dead-letter) for anything no retry can fix."""
    comando = envelope.decode()  # ValidationError / UnknownMessageType are permanent too
    if not isinstance(comando, DebitarCuenta | AcreditarCuenta | RevertirDebito):
        raise PermanentError(f"{envelope.type} is not a command cuentas applies")
    if not 0 < len(comando.comando_id) <= ID_MAX_LEN or len(comando.transaccion_id) > TRANSACCION_MAX_LEN:
        raise PermanentError("comando_id must have 1..64 characters and transaccion_id at most 100")
    if isinstance(comando, RevertirDebito) and not 0 < len(comando.comando_original_id) <= ID_MAX_LEN:
        raise PermanentError("comando_original_id must have 1..64 characters")
    return ComandoRecibido(comando, envelope)


async def aplicar(pool: aiomysql.Pool, recibidos: Sequence[ComandoRecibido]) -> list[saga.Resultado]:
    """Apply the commands not applied before; returns what was decided for them (duplicates are left out: their
    reply already went out through the outbox the first time)."""
    por_id = {r.comando.comando_id: r for r in reversed(recibidos)}  # first delivery of an id wins
    async with db.transaction(pool) as cur:
        procesados = await repo.ya_procesados(cur, CONSUMER, list(por_id))
        comandos = saga.nuevos((r.comando for r in recibidos), procesados)
        if not comandos:
            return []
        if not await repo.registrar_procesados(cur, CONSUMER, [c.comando_id for c in comandos]):
            raise OtroConsumidorLoRegistro()
        cuentas = await repo.bloquear_cuentas(cur, (c.cuenta_id for c in comandos))
        originales = [c.comando_original_id for c in comandos if isinstance(c, RevertirDebito)]
        debitos = await repo.debitos_saga(cur, originales)

        resultados = saga.decidir(comandos, cuentas, debitos)
        await repo.aplicar_deltas(cur, saga.deltas(resultados))
        fecha = repo.utcnow()
        aplicados = [r for r in resultados if isinstance(r, saga.Aplicado)]
        ids = await repo.insertar_movimientos_saga(
            cur,
            [
                (
                    r.cuenta.cuenta_id,
                    r.operacion,
                    r.comando.monto,
                    r.saldo,
                    r.causa,
                    r.comando.transaccion_id,
                    r.comando.comando_id,
                    r.comando.comando_original_id if isinstance(r.comando, RevertirDebito) else None,
                    fecha,
                )
                for r in aplicados
            ],
        )
        respuestas = []
        for r in resultados:
            origen = por_id[r.comando.comando_id].envelope
            mensaje = events.respuesta_saga(r, ids.get(r.comando.comando_id), fecha)
            respuestas.append(events.envelope(mensaje, correlation_id=origen.correlation_id, causation_id=origen.id))
        await add_to_outbox(cur, respuestas)
    if len(comandos) < len(recibidos):
        log.info("%d duplicate command(s) skipped", len(recibidos) - len(comandos))
    return resultados
