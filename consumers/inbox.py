"""Inbox (processed-message) records, written in the same transaction as the effect they guard."""

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


async def first_time_mysql(cur: aiomysql.Cursor, consumer: str, message_id: str) -> bool:
    """MySQL twin of first_time_postgres; the cursor's connection must be inside the effect's transaction."""
    await cur.execute("INSERT IGNORE INTO inbox (consumer, message_id) VALUES (%s, %s)", (consumer, message_id))
    return bool(cur.rowcount == 1)
