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


async def aplicar(pool: aiomysql.Pool, recibidos: Sequence[ComandoRecibido]) -> list[saga.Resultado]:
    """Apply the commands not applied before; returns what was decided for them (duplicates are left out: their
    reply already went out through the outbox the first time)."""
    validos = [r for r in recibidos if r.invalido is None]
    async with db.transaction(pool) as cur:
        resultados = await _aplicar(cur, validos)
        rechazos = [_rechazo_invalido(r) for r in recibidos if r.invalido is not None]
        if rechazos:
            # Their ids do not fit the inbox, so a redelivery answers again: harmless, the saga takes one reply.
            fecha = repo.utcnow()
            await add_to_outbox(
                cur,
                [
                    events.envelope(
                        events.respuesta_saga(rechazo, None, fecha),
                        correlation_id=r.envelope.correlation_id,
                        causation_id=r.envelope.id,
                        authcontext=r.envelope.authcontext,
                    )
                    for r, rechazo in rechazos
                ],
            )
    return resultados + [rechazo for _, rechazo in rechazos]


def _rechazo_invalido(recibido: ComandoRecibido) -> tuple[ComandoRecibido, saga.Rechazado]:
    comando = recibido.comando
    return recibido, saga.Rechazado(
        comando, saga.operacion_de(comando), "COMANDO_INVALIDO", recibido.invalido or "", None
    )


async def _aplicar(cur: aiomysql.Cursor, recibidos: Sequence[ComandoRecibido]) -> list[saga.Resultado]:
    """The valid commands, deduplicated through the inbox, decided under their row locks and written."""
    por_id = {r.comando.comando_id: r for r in reversed(recibidos)}  # first delivery of an id wins
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
        # A saga movement is made on behalf of whoever asked for the transaction: its command carries them.
        [por_id[r.comando.comando_id].envelope.authcontext for r in aplicados],
    )
    respuestas = []
    for r in resultados:
        origen = por_id[r.comando.comando_id].envelope
        mensaje = events.respuesta_saga(r, ids.get(r.comando.comando_id), fecha)
        respuestas.append(
            events.envelope(
                mensaje, correlation_id=origen.correlation_id, causation_id=origen.id, authcontext=origen.authcontext
            )
        )
    await add_to_outbox(cur, respuestas)
    if len(comandos) < len(recibidos):
        log.info("%d duplicate command(s) skipped", len(recibidos) - len(comandos))
    return resultados
