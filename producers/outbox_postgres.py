"""PostgreSQL outbox: table DDL, insert inside the caller's transaction, and the relay's claim/mark."""

import json

import asyncpg

from contracts.envelope import Envelope
from producers.outbox import Publish
from producers.outbox_row import OutboxRow

OUTBOX_DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    id           BIGSERIAL PRIMARY KEY,
    event_id     TEXT NOT NULL UNIQUE,
    topic        TEXT NOT NULL,
    msg_key      TEXT NOT NULL,
    headers      JSONB NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
"""

# Any constant shared by all relays of one database: only the holder publishes, which keeps order.
_RELAY_LOCK = 7_404_201


async def add_to_outbox(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    """Insert events in the caller's open transaction, so they commit or roll back with the state."""
    rows = [OutboxRow.of(e) for e in envelopes]
    await conn.executemany(
        "INSERT INTO outbox (event_id, topic, msg_key, headers, payload) VALUES ($1, $2, $3, $4::jsonb, $5)",
        [(r.event_id, r.topic, r.key, r.headers_json(), r.payload) for r in rows],
    )


class PostgresOutbox:
    """The relay's view of a PostgreSQL outbox table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def relay_batch(self, limit: int, publish: Publish) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                return 0
            records = await conn.fetch(
                "SELECT id, event_id, topic, msg_key, headers::text AS headers, payload FROM outbox "
                "WHERE published_at IS NULL ORDER BY id LIMIT $1",
                limit,
            )
            if not records:
                return 0
            await publish([_row(r) for r in records])
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [r["id"] for r in records]
            )
            return len(records)


async def backlog(pool: asyncpg.Pool) -> tuple[int, float]:
    """(unpublished rows, age in seconds of the oldest of them or 0), through the partial index of unpublished rows."""
    row = await pool.fetchrow(
        "SELECT count(*) AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age "
        "FROM outbox WHERE published_at IS NULL"
    )
    return (int(row["n"]), float(row["age"])) if row is not None else (0, 0.0)


def _row(record: asyncpg.Record) -> OutboxRow:
    return OutboxRow(
        event_id=record["event_id"],
        topic=record["topic"],
        key=record["msg_key"],
        headers=[(k, v) for k, v in json.loads(record["headers"])],
        payload=record["payload"],
    )
