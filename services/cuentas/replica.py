"""The local replica of clientes, folded from bank.clientes.v1, so opening an account validates the cliente
without calling MS1. Each event id is recorded in the inbox in the same transaction as its effect."""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import aiomysql

from consumers import inbox
from consumers.errors import PermanentError
from contracts.clientes import ClienteActualizado, ClienteCreado, ClienteEliminado
from contracts.envelope import Envelope
from services.cuentas import db
from services.cuentas import repository as repo

CONSUMER: Final = "cuentas.replica-clientes"

EventoCliente = ClienteCreado | ClienteActualizado | ClienteEliminado
# (estado, deleted); estado None while only a ClienteEliminado has been seen.
EstadoReplica = tuple[str | None, bool]


def inbox_id(envelope: Envelope) -> str:
    """The inbox key of an event: its ce_id, hashed when longer than the column (ids from other producers)."""
    return envelope.id if len(envelope.id) <= 64 else hashlib.sha256(envelope.id.encode()).hexdigest()


def decodificar(envelope: Envelope) -> EventoCliente:
    evento = envelope.decode()
    if not isinstance(evento, ClienteCreado | ClienteActualizado | ClienteEliminado):
        raise PermanentError(f"{envelope.type} is not a clientes event")
    return evento


def plegar(actual: Mapping[int, EstadoReplica], eventos: Iterable[EventoCliente]) -> dict[int, EstadoReplica]:
    """The replica rows after `eventos`, in order, for the clientes they touch. ClienteActualizado carries the full
    state, so applying it never needs an earlier event."""
    out: dict[int, EstadoReplica] = {}
    for e in eventos:
        estado, deleted = out.get(e.cliente_id) or actual.get(e.cliente_id) or (None, False)
        if isinstance(e, ClienteCreado):
            out[e.cliente_id] = (e.estado, False)
        elif isinstance(e, ClienteActualizado):
            out[e.cliente_id] = (e.estado, deleted)
        else:
            out[e.cliente_id] = (estado, True)
    return out


async def aplicar(pool: aiomysql.Pool, envelopes: Sequence[Envelope]) -> int:
    """Apply the events not applied before; returns how many were new."""
    decoded = [(inbox_id(env), decodificar(env)) for env in envelopes]
    async with db.transaction(pool) as cur:
        vistos = await inbox.seen_mysql(cur, CONSUMER, list({i for i, _ in decoded}))
        nuevos: list[tuple[str, EventoCliente]] = []
        for event_id, evento in decoded:
            if event_id not in vistos:
                vistos.add(event_id)
                nuevos.append((event_id, evento))
        if not nuevos:
            return 0
        if not await inbox.record_mysql(cur, CONSUMER, [i for i, _ in nuevos]):
            raise RuntimeError("another consumer recorded these events meanwhile; retrying")
        actual = await repo.clientes_replicados(cur, (e.cliente_id for _, e in nuevos))
        await repo.guardar_clientes(cur, plegar(actual, (e for _, e in nuevos)))
    return len(nuevos)
