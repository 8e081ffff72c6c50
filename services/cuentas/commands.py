"""Applying saga commands (DebitarCuenta / AcreditarCuenta / RevertirDebito): a batch of them in ONE transaction
with their dedupe records, the balance movements (balance.mover: one ledger row each) and one reply event each."""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import aiomysql

from consumers import inbox
from consumers.errors import PermanentError
from contracts.comandos import AcreditarCuenta, DebitarCuenta, RevertirDebito
from contracts.envelope import Envelope
from producers.outbox_mysql import add_to_outbox
from services.cuentas import balance, db, decisions, events
from services.cuentas import repository as repo

log = logging.getLogger(__name__)

CONSUMER: Final = "cuentas.comandos"
ID_MAX_LEN: Final = 64  # inbox.message_id / movimientos.comando_id
TRANSACCION_MAX_LEN: Final = 100


@dataclass(frozen=True)
class ComandoRecibido:
    comando: decisions.Comando
    envelope: Envelope
    invalido: str | None = None  # why it can never apply although it names what to answer to


class OtroConsumidorLoRegistro(Exception):
    """Another instance recorded one of these commands while we worked (rebalance overlap): roll back, retry."""


def decodificar(envelope: Envelope) -> ComandoRecibido:
    """The typed command; PermanentError (dead-letter) only for what cannot be read as a command at all, since
    there is no saga to answer. A readable command that can never apply is marked `invalido` and answered."""
    comando = envelope.decode()  # ValidationError / UnknownMessageType are permanent too
    if not isinstance(comando, DebitarCuenta | AcreditarCuenta | RevertirDebito):
        raise PermanentError(f"{envelope.type} is not a command cuentas applies")
    invalido = None
    if not 0 < len(comando.comando_id) <= ID_MAX_LEN or len(comando.transaccion_id) > TRANSACCION_MAX_LEN:
        invalido = f"comando_id debe tener 1..{ID_MAX_LEN} caracteres y transaccion_id a lo más {TRANSACCION_MAX_LEN}"
    elif isinstance(comando, RevertirDebito) and not 0 < len(comando.comando_original_id) <= ID_MAX_LEN:
        invalido = f"comando_original_id debe tener 1..{ID_MAX_LEN} caracteres"
    return ComandoRecibido(comando, envelope, invalido)


async def aplicar(
    pool: aiomysql.Pool, recibidos: Sequence[ComandoRecibido], *, on_commit: Callable[[], None] | None = None
) -> list[decisions.Decision]:
    """Apply the commands not applied before; returns what was decided for them (duplicates are left out: their
    reply already went out through the outbox the first time)."""
    validos = [r for r in recibidos if r.invalido is None]
    async with db.transaction(pool, on_commit=on_commit) as cur:
        resultados = await _aplicar(cur, validos)
        rechazos = [_rechazo_invalido(r) for r in recibidos if r.invalido is not None]
        if rechazos:
            # Their ids do not fit the inbox, so a redelivery answers again: harmless, the saga takes one reply.
            fecha = repo.utcnow()
            await add_to_outbox(
                cur,
                [
                    events.envelope(
                        events.rechazo_saga(rechazo, fecha),
                        correlation_id=r.envelope.correlation_id,
                        causation_id=r.envelope.id,
                        authcontext=r.envelope.authcontext,
                    )
                    for r, rechazo in rechazos
                ],
            )
    return resultados + [rechazo for _, rechazo in rechazos]


def _rechazo_invalido(recibido: ComandoRecibido) -> tuple[ComandoRecibido, decisions.Denegado]:
    comando = recibido.comando
    return recibido, decisions.Denegado(
        comando, decisions.operacion_de(comando), "COMANDO_INVALIDO", recibido.invalido or "", None
    )


async def _aplicar(cur: aiomysql.Cursor, recibidos: Sequence[ComandoRecibido]) -> list[decisions.Decision]:
    """The valid commands, deduplicated through the inbox, then moved (balance.mover) and answered."""
    por_id = {r.comando.comando_id: r for r in reversed(recibidos)}  # first delivery of an id wins
    procesados = await inbox.seen_mysql(cur, CONSUMER, list(por_id))
    comandos = decisions.nuevos((r.comando for r in recibidos), procesados)
    if not comandos:
        return []
    if not await inbox.record_mysql(cur, CONSUMER, [c.comando_id for c in comandos]):
        raise OtroConsumidorLoRegistro()
    fecha = repo.utcnow()
    # A saga movement is made on behalf of whoever asked for the transaction: its command's envelope carries them,
    # and so does the reply.
    origenes = [por_id[c.comando_id].envelope for c in comandos]
    resultados = await balance.mover(cur, comandos, fecha, [o.authcontext for o in origenes])
    respuestas = []
    for origen, r in zip(origenes, resultados, strict=True):
        respuesta = r.evento if isinstance(r, balance.Movido) else events.rechazo_saga(r, fecha)
        respuestas.append(
            events.envelope(
                respuesta, correlation_id=origen.correlation_id, causation_id=origen.id, authcontext=origen.authcontext
            )
        )
    await add_to_outbox(cur, respuestas)
    if len(comandos) < len(recibidos):
        log.info("%d duplicate command(s) skipped", len(recibidos) - len(comandos))
    return [r.aprobado if isinstance(r, balance.Movido) else r for r in resultados]
