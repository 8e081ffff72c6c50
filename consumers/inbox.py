"""The inbox of each store: the ids of the messages a consumer processed, recorded in the same transaction as
their effect, so a redelivered message is recognised and changes nothing. One table shape, one set of queries
per database (PostgreSQL, MySQL/MariaDB); a consumer is named so several can share the table.

perfil's view is not a consumer of this table: the ids of the events a view applied live inside that view's own
schema (`eventos_aplicados`), because a rebuilt copy must start with none of them, beside the offsets it folds to."""

from collections.abc import Sequence

import aiomysql
import asyncpg

INBOX_DDL_POSTGRES = """
CREATE TABLE IF NOT EXISTS inbox (
    consumer     TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
)
"""

INBOX_DDL_MYSQL = """
CREATE TABLE IF NOT EXISTS inbox (
    consumer     VARCHAR(100) NOT NULL,
    message_id   VARCHAR(64) NOT NULL,
    processed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (consumer, message_id)
) ENGINE=InnoDB
"""


async def first_time_postgres(conn: asyncpg.Connection, consumer: str, message_id: str) -> bool:
    """Record the message as processed; False if it already was (then skip the effect).
    Call inside the effect's transaction so both commit or neither does."""
    inserted = await conn.fetchval(
        "INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
        consumer,
        message_id,
    )
    return inserted is not None


async def first_times_postgres(conn: asyncpg.Connection, consumer: str, message_ids: Sequence[str]) -> set[str]:
    """first_time_postgres for a batch in one statement: the ids recorded now (the others were processed before).
    Call inside the effects' transaction; an id twice in the batch is recorded once."""
    if not message_ids:
        return set()
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, message_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING "
        "RETURNING message_id",
        consumer,
        list(dict.fromkeys(message_ids)),
    )
    return {r["message_id"] for r in rows}


async def seen_mysql(cur: aiomysql.Cursor, consumer: str, ids: Sequence[str]) -> set[str]:
    """Which of `ids` the consumer already processed (a batch checks all its ids in one round trip)."""
    if not ids:
        return set()
    marks = ", ".join(["%s"] * len(ids))
    await cur.execute(f"SELECT message_id FROM inbox WHERE consumer = %s AND message_id IN ({marks})", [consumer, *ids])
    return {r[0] for r in await cur.fetchall()}


async def record_mysql(cur: aiomysql.Cursor, consumer: str, ids: Sequence[str]) -> bool:
    """Record message ids as processed (same transaction as their effect). False when another consumer recorded
    one of them meanwhile (a rebalance overlap): the caller rolls back and tries again."""
    if not ids:
        return True
    await cur.executemany(
        "INSERT IGNORE INTO inbox (consumer, message_id) VALUES (%s, %s)", [(consumer, i) for i in ids]
    )
    return bool(cur.rowcount == len(ids))
