"""The view store: PostgreSQL JSONB documents in the service's own database `perfil`.

Why PostgreSQL and not the MongoDB-wire store: the fold of a batch, the Kafka offsets it reaches
and the ids of the events it applied commit in ONE transaction, so every record is folded exactly
once whatever the crashes (FerretDB has no multi-document transactions); pg_trgm GIN indexes make
substring search over 20,000+ clientes fast (FerretDB on SQLite scans for regexes); a rebuild can
fill a whole new schema and switch a pointer row atomically while the live copy keeps serving.
It is still a document store in the sense DESIGN asks for: one JSONB document per cliente, owned by
this service only, rebuildable from Kafka at will.

Layout: public.view_pointer names the active schema perfil_v<n>; each schema holds
perfiles (the documents), transacciones (every transaction per cliente, for listing and dedupe),
eventos_aplicados (inbox of event ids), offsets (next offset per topic-partition), view_state,
cuentas_clientes (account owners learnt from the cuentas topic) and transacciones_sin_dueno
(transactions waiting for their account's owner to be known).
"""

import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
from aiokafka import TopicPartition

from services.perfil import folding
from services.perfil.documentos import DocumentCache
from services.perfil.folding import ApplyResult, DeadLetter, Record, quoted
from services.perfil.projector import Doc
from services.platform.migrate import migrate_postgres

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

VIEW_DDL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.perfiles (
    cliente_id BIGINT PRIMARY KEY,
    doc        JSON COMPRESSION lz4 NOT NULL,  -- why JSON, not JSONB: see DOC_STORAGE_DDL
    visible    BOOLEAN NOT NULL,
    busqueda   TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
) WITH (fillfactor = 70);  -- room for HOT updates: a new saldo leaves busqueda and its GIN index untouched
CREATE TABLE {s}.transacciones (
    cliente_id     BIGINT NOT NULL,
    transaccion_id TEXT NOT NULL,
    fecha          TIMESTAMPTZ NOT NULL,
    item           JSONB NOT NULL,
    PRIMARY KEY (cliente_id, transaccion_id)
);
CREATE INDEX ON {s}.transacciones (cliente_id, fecha DESC, transaccion_id DESC);
CREATE TABLE {s}.eventos_aplicados (event_id TEXT PRIMARY KEY);
CREATE TABLE {s}.offsets (
    topic       TEXT NOT NULL,
    partition   INT NOT NULL,
    next_offset BIGINT NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE {s}.view_state (
    id              INT PRIMARY KEY CHECK (id = 1),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_event_time TIMESTAMPTZ,
    applied_at      TIMESTAMPTZ,
    events_applied  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO {s}.view_state (id) VALUES (1);
"""

# A document is written whole by every fold that touches it and read whole (never queried inside but for a page of
# search results), so PostgreSQL only has to keep the text the fold wrote: JSON is stored as given (checked, not
# re-parsed into JSONB's binary form and printed back on every read), and lz4 compresses a document of a few KB
# (past the 2 KB TOAST threshold) at a fraction of pglz's cost. Measured, 3,000 documents of 3.5 KB: an upsert
# 438 ms as JSONB/pglz, 319 JSONB/lz4, 157 JSON/lz4; reading them all 136 / 86 / 21 ms. A copy made with JSONB is
# converted once (a table rewrite, under the upgrade's lock).
DOC_STORAGE_DDL = """
DO $$ BEGIN
    IF (SELECT atttypid = 'jsonb'::regtype FROM pg_attribute
         WHERE attrelid = '{s}.perfiles'::regclass AND attname = 'doc') THEN
        ALTER TABLE {s}.perfiles ALTER COLUMN doc TYPE json USING doc::json;
    END IF;
END $$;
ALTER TABLE {s}.perfiles ALTER COLUMN doc SET COMPRESSION lz4;
"""

# Format 2 learns account owners from the cuentas topic, to attribute transactions whose event leaves an
# owner unknown. Format 3 keeps who caused each change (the events' authcontext: the cliente's creado_por and
# actualizado_por, each transaction's actor): an older copy lacks them, so it is rebuilt at start.
# Idempotent, so an older copy can keep being folded until a rebuild replaces it.
VIEW_FORMAT = 3
UPGRADE_DDL = (
    """
ALTER TABLE {s}.view_state ADD COLUMN IF NOT EXISTS format INT NOT NULL DEFAULT 1;
CREATE TABLE IF NOT EXISTS {s}.cuentas_clientes (
    cuenta_id  BIGINT PRIMARY KEY,
    cliente_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.transacciones_sin_dueno (
    cuenta_id      BIGINT NOT NULL,
    transaccion_id TEXT NOT NULL,
    tipo           TEXT NOT NULL,
    data           JSONB NOT NULL,
    PRIMARY KEY (cuenta_id, transaccion_id)
);
ALTER TABLE {s}.transacciones_sin_dueno ADD COLUMN IF NOT EXISTS authcontext JSONB;
"""
    + DOC_STORAGE_DDL
)

REBUILD_LOCK = 7404204  # session advisory lock held for a whole rebuild

# Built after a rebuild's bulk phase rather than maintained row by row during it (much faster).
SEARCH_INDEX_DDL = (
    "CREATE INDEX IF NOT EXISTS perfiles_busqueda_trgm ON {s}.perfiles "
    "USING gin (busqueda public.gin_trgm_ops) WHERE visible"
)


@dataclass(frozen=True)
class Freshness:
    schema: str
    offsets: dict[str, int]
    last_event_time: datetime | None
    applied_at: datetime | None
    events_applied: int


def _like_term(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def ensure_database(url: str) -> None:
    """Create the service's database if it does not exist (user bank may CREATE DATABASE)."""
    try:
        conn = await asyncpg.connect(url)
    except asyncpg.InvalidCatalogNameError:
        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"unexpected database name {name!r}") from None
        admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            log.info("created database %s", name)
        except asyncpg.DuplicateDatabaseError:
            pass  # another process created it first
        finally:
            await admin.close()
    else:
        await conn.close()


class ViewStore:
    """Every SQL statement of the service; schema-qualified so several view copies can coexist."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.documents = DocumentCache()  # what the folds of this process read and wrote last

    # --- set-up and the pointer ---------------------------------------------------------

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn:
            await migrate_postgres(conn, MIGRATIONS)

    async def ensure_active_view(self) -> str:
        """The active schema, creating perfil_v1 (folded from offset 0 by the live projection) on first start."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7404203)")
            active: str | None = await conn.fetchval("SELECT schema_name FROM view_pointer WHERE id = 1")
            if active is not None:
                return active
            schema = await self._create_view(conn, search_index=True)
            await conn.execute("INSERT INTO view_pointer (id, schema_name) VALUES (1, $1)", schema)
            return schema

    async def active_schema(self) -> str:
        schema: str | None = await self.pool.fetchval("SELECT schema_name FROM view_pointer WHERE id = 1")
        if schema is None:
            raise LookupError("no active perfil view yet")
        return schema

    async def create_view(self, *, search_index: bool = False) -> str:
        async with self.pool.acquire() as conn, conn.transaction():
            return await self._create_view(conn, search_index=search_index)

    async def _create_view(self, conn: asyncpg.Connection, *, search_index: bool) -> str:
        schema = f"perfil_v{await conn.fetchval('SELECT nextval($1)', 'view_seq')}"
        await conn.execute(VIEW_DDL.format(s=quoted(schema)))
        await conn.execute(UPGRADE_DDL.format(s=quoted(schema)))
        await conn.execute(f"UPDATE {quoted(schema)}.view_state SET format = $1", VIEW_FORMAT)
        if search_index:
            await conn.execute(SEARCH_INDEX_DDL.format(s=quoted(schema)))
        log.info("created view schema %s", schema)
        return schema

    async def upgrade_view(self, schema: str) -> int:
        """Bring an older copy's tables up to this code (idempotent); returns the format it was built with,
        which is below VIEW_FORMAT when only a rebuild can fill what it lacks."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7404203)")
            await conn.execute(UPGRADE_DDL.format(s=quoted(schema)))
            built: int = await conn.fetchval(f"SELECT format FROM {quoted(schema)}.view_state WHERE id = 1")
        return built

    async def build_search_index(self, schema: str) -> None:
        await self.pool.execute(SEARCH_INDEX_DDL.format(s=quoted(schema)))

    @asynccontextmanager
    async def rebuild_lock(self, waiting: Callable[[], None]) -> AsyncIterator[None]:
        """One rebuild at a time per database (a second one waits): each would otherwise drop the other's copy."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", REBUILD_LOCK):
                waiting()
                await conn.execute("SELECT pg_advisory_lock($1)", REBUILD_LOCK)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", REBUILD_LOCK)

    async def view_schemas(self) -> list[str]:
        rows = await self.pool.fetch(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name ~ '^perfil_v[0-9]+$'"
        )
        return sorted((r["schema_name"] for r in rows), key=lambda s: int(s.removeprefix("perfil_v")))

    async def drop_view(self, schema: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            active = await conn.fetchval("SELECT schema_name FROM view_pointer WHERE id = 1 FOR UPDATE")
            if schema == active:
                raise ValueError(f"{schema} is the active view")
            await conn.execute(f"DROP SCHEMA IF EXISTS {quoted(schema)} CASCADE")

    # --- folding ------------------------------------------------------------------------

    async def offsets(self, schema: str) -> dict[TopicPartition, int]:
        rows = await self.pool.fetch(f"SELECT topic, partition, next_offset FROM {quoted(schema)}.offsets")
        return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}

    async def apply(
        self,
        schema: str,
        records: Sequence[Record],
        *,
        check_active: bool = False,
        dead_letter: DeadLetter | None = None,
        expected: Mapping[tuple[str, int], int | None] | None = None,
    ) -> ApplyResult:
        """Fold `records` into `schema` exactly once (see folding.apply)."""
        async with self.pool.acquire() as conn:
            return await folding.apply(
                conn,
                schema,
                records,
                check_active=check_active,
                dead_letter=dead_letter,
                expected=expected,
                cache=self.documents,
            )

    # --- reading ------------------------------------------------------------------------

    async def document(self, schema: str, cliente_id: int) -> Doc | None:
        raw = await self.pool.fetchval(
            f"SELECT doc::text FROM {quoted(schema)}.perfiles WHERE cliente_id = $1", cliente_id
        )
        return orjson.loads(raw) if raw is not None else None

    async def search(self, schema: str, terms: Sequence[str], *, skip: int, limit: int) -> tuple[int, list[Doc]]:
        """Visible clientes whose search text contains every term, ordered by cliente_id (no term: nothing)."""
        if not terms:
            return 0, []
        where = " AND ".join(f"busqueda LIKE ${i + 1}" for i in range(len(terms)))
        args: list[Any] = [_like_term(t.lower()) for t in terms]
        s = quoted(schema)
        async with self.pool.acquire() as conn:
            # The total rides along the page (one index scan, not two); only a page past the end needs a count.
            # Documents are read for the page only, not for every hit.
            rows = await conn.fetch(
                f"WITH page AS (SELECT cliente_id, count(*) OVER () AS total FROM {s}.perfiles "
                f"WHERE visible AND {where} ORDER BY cliente_id OFFSET ${len(args) + 1} LIMIT ${len(args) + 2}) "
                f"SELECT page.total, p.doc->'cliente' AS cliente FROM page JOIN {s}.perfiles p USING (cliente_id) "
                "ORDER BY cliente_id",
                *args,
                skip,
                limit,
            )
            if rows:
                total: int = rows[0]["total"]
            else:
                total = await conn.fetchval(f"SELECT count(*) FROM {s}.perfiles WHERE visible AND {where}", *args)
        return total, [orjson.loads(r["cliente"]) for r in rows]

    async def transactions(self, schema: str, cliente_id: int, limit: int) -> list[Doc]:
        rows = await self.pool.fetch(
            f"SELECT item::text AS item FROM {quoted(schema)}.transacciones WHERE cliente_id = $1 "
            "ORDER BY fecha DESC, transaccion_id DESC LIMIT $2",
            cliente_id,
            limit,
        )
        return [orjson.loads(r["item"]) for r in rows]

    async def freshness(self, schema: str) -> Freshness:
        s = quoted(schema)
        async with self.pool.acquire() as conn:
            state = await conn.fetchrow(f"SELECT last_event_time, applied_at, events_applied FROM {s}.view_state")
            rows = await conn.fetch(f"SELECT topic, partition, next_offset FROM {s}.offsets ORDER BY 1, 2")
        return Freshness(
            schema=schema,
            offsets={f"{r['topic']}:{r['partition']}": r["next_offset"] for r in rows},
            last_event_time=state["last_event_time"] if state else None,
            applied_at=state["applied_at"] if state else None,
            events_applied=state["events_applied"] if state else 0,
        )

    async def differences(self, a: str, b: str, *, sample: int = 10) -> tuple[int, list[int]]:
        """How many clientes' documents (or transaction lists) differ between two view copies, and a few ids."""
        qa, qb = quoted(a), quoted(b)
        rows = await self.pool.fetch(
            f"""
            SELECT cliente_id FROM {qa}.perfiles x FULL JOIN {qb}.perfiles y USING (cliente_id)
             WHERE x.doc::jsonb IS DISTINCT FROM y.doc::jsonb  -- as values: JSON text keeps each fold's key order
            UNION
            SELECT cliente_id FROM (
                SELECT cliente_id, transaccion_id, item FROM {qa}.transacciones
                UNION ALL SELECT cliente_id, transaccion_id, item FROM {qb}.transacciones
            ) t GROUP BY cliente_id, transaccion_id, item HAVING count(*) <> 2
            """
        )
        ids = sorted(r["cliente_id"] for r in rows)
        return len(ids), ids[:sample]

    async def count_documents(self, schema: str) -> int:
        count: int = await self.pool.fetchval(f"SELECT count(*) FROM {quoted(schema)}.perfiles")
        return count
