"""SQL of the clientes database (asyncpg): reads, the unit of work that writes state and outbox together, and the
cuentas projection. Database constraint errors are translated here into the service's typed errors."""

import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from itertools import groupby
from pathlib import Path
from typing import Any, Final, TypeVar

import asyncpg

from consumers.inbox import INBOX_DDL_POSTGRES
from contracts.envelope import AuthContext, Envelope
from producers.outbox_postgres import OUTBOX_DDL, add_to_outbox
from services.clientes import idempotencia
from services.clientes.domain import Cliente, Documento, NuevoCliente
from services.clientes.errors import DatoDuplicado, DatoInvalido
from services.clientes.projection import CambioCuenta, Kind
from services.platform.idempotency import Keyed, Recorded
from services.platform.migrate import migrate_postgres

T = TypeVar("T")

# Held while creating the shared tables: two CREATE TABLE IF NOT EXISTS racing each other can still collide.
_SHARED_DDL_LOCK: Final = 7_404_203


async def migrate(conn: asyncpg.Connection, folder: Path) -> list[str]:
    """The shared outbox and inbox tables, created from the one DDL their code owns (producers/, consumers/), then
    the numbered migrations in `folder`; returns the migrations applied now."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _SHARED_DDL_LOCK)
        await conn.execute(OUTBOX_DDL)
        await conn.execute(INBOX_DDL_POSTGRES)
    return await migrate_postgres(conn, folder)


_SELECT = """
SELECT c.cliente_id, c.nombre, c.apellido, c.email, c.telefono, c.estado, c.fecha_registro,
       c.creado_por::text AS creado_por, c.actualizado_por::text AS actualizado_por,
       d.documento_id, d.tipo_documento, d.numero_documento, d.fecha_emision, d.fecha_vencimiento
FROM {source} c
LEFT JOIN documentos_identidad d ON d.cliente_id = c.cliente_id AND d.deleted_at IS NULL
"""
_BY_ID = _SELECT.format(source="clientes") + " WHERE c.cliente_id = $1 AND c.deleted_at IS NULL ORDER BY d.documento_id"
# FOR UPDATE OF c: the cliente row is the aggregate's lock (a join's nullable side cannot be locked anyway).
_BY_ID_FOR_UPDATE = _BY_ID + " FOR UPDATE OF c"
_BY_EMAIL = (
    _SELECT.format(source="clientes")
    + " WHERE lower(c.email) = lower($1) AND c.deleted_at IS NULL ORDER BY d.documento_id"
)
_BY_DOCUMENTO = (
    _SELECT.format(source="clientes")
    + """ WHERE c.deleted_at IS NULL AND c.cliente_id = (
        SELECT cliente_id FROM documentos_identidad WHERE numero_documento = $1 AND deleted_at IS NULL)
    ORDER BY d.documento_id"""
)

# $1 estado or NULL, $2 an ILIKE pattern or NULL. "nombre apellido" lets "ana pérez" find Ana Pérez.
_FILTER = """
c.deleted_at IS NULL
AND ($1::text IS NULL OR c.estado = $1)
AND ($2::text IS NULL
     OR (c.nombre || ' ' || c.apellido) ILIKE $2
     OR c.email ILIKE $2
     OR EXISTS (SELECT 1 FROM documentos_identidad dq
                WHERE dq.cliente_id = c.cliente_id AND dq.deleted_at IS NULL AND dq.numero_documento ILIKE $2))
AND ($3::bigint IS NULL OR c.cliente_id = $3)
"""
_PAGE = (
    "WITH page AS (SELECT * FROM clientes c WHERE "
    + _FILTER
    + " ORDER BY c.cliente_id OFFSET $4 LIMIT $5) "
    + _SELECT.format(source="page")
    + " ORDER BY c.cliente_id, d.documento_id"
)
_COUNT = "SELECT count(*) FROM clientes c WHERE " + _FILTER

_HAS_BALANCE = """
SELECT EXISTS (SELECT 1 FROM cuentas_cliente
               WHERE cliente_id = $1 AND NOT eliminada AND estado <> 'cerrada' AND saldo <> 0)
"""

# Which request field each unique index guards, so a 409 can name it.
_UNIQUE_FIELDS = {"clientes_email_key": "email", "documentos_numero_key": "numero_documento"}
_CHECK_FIELDS = {"documentos_vigencia_check": "fecha_vencimiento"}


def _actor_json(actor: AuthContext | None) -> str | None:
    return json.dumps(actor.to_data()) if actor is not None else None


def _actor(text: str | None) -> AuthContext | None:
    return AuthContext.from_data(json.loads(text)) if text else None


def like_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with LIKE's wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _group(rows: Sequence[asyncpg.Record]) -> list[Cliente]:
    """Fold joined (cliente, documento) rows, ordered by cliente, into clientes with their documentos."""
    clientes: dict[int, tuple[asyncpg.Record, list[Documento]]] = {}
    for row in rows:
        _, docs = clientes.setdefault(row["cliente_id"], (row, []))
        if row["documento_id"] is not None:
            docs.append(
                Documento(
                    documento_id=row["documento_id"],
                    cliente_id=row["cliente_id"],
                    tipo_documento=row["tipo_documento"],
                    numero_documento=row["numero_documento"],
                    fecha_emision=row["fecha_emision"],
                    fecha_vencimiento=row["fecha_vencimiento"],
                )
            )
    return [
        Cliente(
            cliente_id=head["cliente_id"],
            nombre=head["nombre"],
            apellido=head["apellido"],
            email=head["email"],
            telefono=head["telefono"],
            estado=head["estado"],
            fecha_registro=head["fecha_registro"],
            documentos=tuple(docs),
            creado_por=_actor(head["creado_por"]),
            actualizado_por=_actor(head["actualizado_por"]),
        )
        for head, docs in clientes.values()
    ]


async def _one(conn: asyncpg.Connection, query: str, *args: Any) -> Cliente | None:
    found = _group(await conn.fetch(query, *args))
    return found[0] if found else None


def _checked_field(exc: asyncpg.CheckViolationError) -> str:
    """The column a CHECK guards: named explicitly, or PostgreSQL's default name <table>_<column>_check."""
    name = exc.constraint_name or ""
    if name in _CHECK_FIELDS:
        return _CHECK_FIELDS[name]
    prefix = f"{exc.table_name}_" if exc.table_name else ""
    if name.startswith(prefix) and name.endswith("_check"):
        return name[len(prefix) : -len("_check")]
    return "body"


@contextmanager
def _constraint_errors() -> Iterator[None]:
    """Let the database be the judge of uniqueness (no check-then-insert race) and report its verdict as 409/422."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise DatoDuplicado(_UNIQUE_FIELDS.get(exc.constraint_name or "", "cliente")) from None
    except asyncpg.CheckViolationError as exc:
        raise DatoInvalido(_checked_field(exc), "valor no permitido") from None
    except asyncpg.DataError as exc:  # value too long, out of range, bad encoding: input the schema let through
        raise DatoInvalido(exc.column_name or "body", f"valor no permitido: {exc}") from None


class Unit:
    """Writes of one transaction: state changes and the outbox rows of the events they cause."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.has_events = False

    async def get_for_update(self, cliente_id: int) -> Cliente | None:
        return await _one(self._conn, _BY_ID_FOR_UPDATE, cliente_id)

    async def insert(self, nuevo: NuevoCliente, actor: AuthContext | None = None) -> Cliente:
        return (await self.insert_many([nuevo], actor))[0]

    async def insert_many(self, nuevos: Sequence[NuevoCliente], actor: AuthContext | None = None) -> list[Cliente]:
        """The clientes and their documento in two statements, whatever their number: a batch of 500 was 1,000
        round trips, about a third of the clientes process's CPU during the demo seed. The rows come back matched by
        their email (unique in a batch that inserts, as among live clientes), not by RETURNING's order, which SQL
        does not promise."""
        if not nuevos:
            return []
        with _constraint_errors():
            rows = await self._conn.fetch(
                "INSERT INTO clientes (nombre, apellido, email, telefono, estado, creado_por, actualizado_por) "
                "SELECT n, a, e, t, s, $6::jsonb, $6::jsonb "
                "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY "
                "AS r(n, a, e, t, s, i) ORDER BY i RETURNING cliente_id, email, fecha_registro",
                [n.nombre for n in nuevos],
                [n.apellido for n in nuevos],
                [n.email for n in nuevos],
                [n.telefono for n in nuevos],
                [n.estado for n in nuevos],
                _actor_json(actor),
            )
            by_email = {r["email"]: r for r in rows}
            heads = [by_email[n.email] for n in nuevos]
            docs = [n.documento for n in nuevos]
            ids = await self._conn.fetch(
                "INSERT INTO documentos_identidad "
                "(cliente_id, tipo_documento, numero_documento, fecha_emision, fecha_vencimiento) "
                "SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::date[], $5::date[]) "
                "RETURNING cliente_id, documento_id",
                [h["cliente_id"] for h in heads],
                [d.tipo_documento for d in docs],
                [d.numero_documento for d in docs],
                [d.fecha_emision for d in docs],
                [d.fecha_vencimiento for d in docs],
            )
        documento_de = {r["cliente_id"]: r["documento_id"] for r in ids}
        return [
            Cliente(
                cliente_id=head["cliente_id"],
                nombre=nuevo.nombre,
                apellido=nuevo.apellido,
                email=nuevo.email,
                telefono=nuevo.telefono,
                estado=nuevo.estado,
                fecha_registro=head["fecha_registro"],
                documentos=(
                    Documento(
                        documento_id=documento_de[head["cliente_id"]],
                        cliente_id=head["cliente_id"],
                        tipo_documento=nuevo.documento.tipo_documento,
                        numero_documento=nuevo.documento.numero_documento,
                        fecha_emision=nuevo.documento.fecha_emision,
                        fecha_vencimiento=nuevo.documento.fecha_vencimiento,
                    ),
                ),
                creado_por=actor,
                actualizado_por=actor,
            )
            for nuevo, head in zip(nuevos, heads, strict=True)
        ]

    async def update(self, cliente: Cliente) -> None:
        with _constraint_errors():
            await self._conn.execute(
                "UPDATE clientes SET nombre = $2, apellido = $3, email = $4, telefono = $5, estado = $6, "
                "updated_at = now(), actualizado_por = $7::jsonb WHERE cliente_id = $1 AND deleted_at IS NULL",
                cliente.cliente_id,
                cliente.nombre,
                cliente.apellido,
                cliente.email,
                cliente.telefono,
                cliente.estado,
                _actor_json(cliente.actualizado_por),
            )

    async def has_accounts_with_balance(self, cliente_id: int) -> bool:
        return bool(await self._conn.fetchval(_HAS_BALANCE, cliente_id))

    async def mark_deleted(self, cliente_id: int, actor: AuthContext | None = None) -> None:
        """Soft delete: the row stays (history, events, lake) but leaves every read; estado becomes inactivo."""
        await self._conn.execute(
            "UPDATE clientes SET deleted_at = now(), updated_at = now(), estado = 'inactivo', "
            "actualizado_por = $2::jsonb WHERE cliente_id = $1",
            cliente_id,
            _actor_json(actor),
        )
        await self._conn.execute(
            "UPDATE documentos_identidad SET deleted_at = now() WHERE cliente_id = $1 AND deleted_at IS NULL",
            cliente_id,
        )

    async def add_events(self, envelopes: list[Envelope]) -> None:
        await add_to_outbox(self._conn, envelopes)
        self.has_events = True

    async def claim_keys(self, keys: Sequence[Keyed[Any]]) -> None:
        """Idempotency-Keys, taken first (raises KeyTaken when another request committed one)."""
        await idempotencia.claim(self._conn, keys)

    async def record_answers(self, answered: Iterable[tuple[Keyed[T], T]]) -> None:
        """The answers of the keys taken by claim_keys, stored last."""
        await idempotencia.record(self._conn, answered)


class ClientesRepository:
    """Reads through the pool; writes through `unit()`, one transaction each. `on_events` is called after a
    transaction that wrote events has committed (it wakes this process's outbox relay)."""

    def __init__(self, pool: asyncpg.Pool, *, on_events: Callable[[], None] | None = None) -> None:
        self._pool = pool
        self._on_events = on_events

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                unit = Unit(conn)
                yield unit
            if unit.has_events and self._on_events is not None:
                self._on_events()

    async def get(self, cliente_id: int) -> Cliente | None:
        async with self._pool.acquire() as conn:
            return await _one(conn, _BY_ID, cliente_id)

    async def recorded_answer(self, clave: str) -> Recorded | None:
        """What a committed write with this Idempotency-Key answered."""
        return (await self.recorded_answers([clave])).get(clave)

    async def recorded_answers(self, claves: Sequence[str]) -> dict[str, Recorded]:
        async with self._pool.acquire() as conn:
            return await idempotencia.find(conn, claves)

    async def by_email(self, email: str) -> Cliente | None:
        async with self._pool.acquire() as conn:
            return await _one(conn, _BY_EMAIL, email)

    async def by_documento(self, numero_documento: str) -> Cliente | None:
        async with self._pool.acquire() as conn:
            return await _one(conn, _BY_DOCUMENTO, numero_documento)

    async def page(
        self, *, estado: str | None, q: str | None, skip: int, limit: int, cliente_id: int | None = None
    ) -> tuple[list[Cliente], int]:
        """`cliente_id`: only that cliente (a customer's own list)."""
        pattern = like_pattern(q) if q else None
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_PAGE, estado, pattern, cliente_id, skip, limit)
            total = await conn.fetchval(_COUNT, estado, pattern, cliente_id)
        return _group(rows), int(total)


# --- the cuentas projection (consumer group clientes.cuentas-abiertas) ---


# One set-based statement per kind of change (arrays in, one row per account). "abierta": the opening is an
# account's first event, so a row that exists already holds newer state. "saldo": the balance right after
# movimiento_id, applied only if that movement is newer than ours. "estado": cerrada is final in cuentas, so nothing
# may reopen it here either.
_CAMBIO_SQL: dict[Kind, str] = {
    "abierta": "INSERT INTO cuentas_cliente (cuenta_id, cliente_id, estado, saldo) "
    "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::numeric[]) ON CONFLICT (cuenta_id) DO NOTHING",
    "saldo": "INSERT INTO cuentas_cliente (cuenta_id, cliente_id, estado, saldo, ultimo_movimiento_id) "
    "SELECT c, cl, 'activa', s, m FROM unnest($1::bigint[], $2::bigint[], $3::numeric[], $4::bigint[]) AS u(c, cl, s, m) "
    "ON CONFLICT (cuenta_id) DO UPDATE "
    "SET saldo = EXCLUDED.saldo, ultimo_movimiento_id = EXCLUDED.ultimo_movimiento_id, updated_at = now() "
    "WHERE cuentas_cliente.ultimo_movimiento_id < EXCLUDED.ultimo_movimiento_id",
    "estado": "INSERT INTO cuentas_cliente (cuenta_id, cliente_id, estado) "
    "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[]) "
    "ON CONFLICT (cuenta_id) DO UPDATE SET estado = EXCLUDED.estado, updated_at = now() "
    "WHERE cuentas_cliente.estado <> 'cerrada'",
    "eliminada": "INSERT INTO cuentas_cliente (cuenta_id, cliente_id, estado, eliminada) "
    "SELECT c, cl, 'cerrada', true FROM unnest($1::bigint[], $2::bigint[]) AS u(c, cl) "
    "ON CONFLICT (cuenta_id) DO UPDATE SET eliminada = true, updated_at = now()",
}


def _cambio_args(cambio: CambioCuenta) -> tuple[object, ...]:
    ids = (cambio.cuenta_id, cambio.cliente_id)
    if cambio.kind == "abierta":
        return (*ids, cambio.estado, cambio.saldo)
    if cambio.kind == "saldo":
        return (*ids, cambio.saldo, cambio.movimiento_id)
    if cambio.kind == "estado":
        return (*ids, cambio.estado)
    return ids


def rondas(cambios: Iterable[CambioCuenta]) -> list[list[CambioCuenta]]:
    """The changes in rounds that hold at most one change per account, each account's changes in their order
    (its n-th change in round n). Why: one statement may not change a row twice (ON CONFLICT DO UPDATE), and the
    changes of different accounts commute, so a round can be applied one statement per kind. Consecutive saldos of
    an account fold into the newest movement's: applying them in order leaves exactly what that one leaves."""
    rounds: list[list[CambioCuenta]] = []
    last: dict[int, tuple[int, int]] = {}  # cuenta_id -> (round, index in it) of its latest change
    for cambio in cambios:
        at = last.get(cambio.cuenta_id)
        if at is not None and cambio.kind == "saldo" and rounds[at[0]][at[1]].kind == "saldo":
            previo = rounds[at[0]][at[1]]
            if cambio.movimiento_id > previo.movimiento_id:
                rounds[at[0]][at[1]] = cambio
            continue
        n = 0 if at is None else at[0] + 1
        if n == len(rounds):
            rounds.append([])
        last[cambio.cuenta_id] = (n, len(rounds[n]))
        rounds[n].append(cambio)
    return rounds


async def apply_cambios_cuenta(conn: asyncpg.Connection, cambios: Sequence[CambioCuenta]) -> None:
    """Apply projection changes as if in their order, on `conn`, inside the caller's transaction (beside their inbox
    records): per round (see `rondas`) one statement per kind of change, not a round trip per event."""
    for ronda in rondas(cambios):
        for kind, run in groupby(sorted(ronda, key=lambda c: c.kind), key=lambda c: c.kind):
            columns = zip(*(_cambio_args(c) for c in run), strict=True)
            await conn.execute(_CAMBIO_SQL[kind], *(list(column) for column in columns))
