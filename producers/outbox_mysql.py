"""MySQL/MariaDB outbox: table DDL, insert inside the caller's transaction, and the relay's claim/mark."""

import json
from typing import Any

import aiomysql

from contracts.envelope import Envelope
from producers.outbox import Publish
from producers.outbox_row import OutboxRow

OUTBOX_DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    id           BIGINT AUTO_INCREMENT PRIMARY KEY,
    event_id     VARCHAR(64) NOT NULL UNIQUE,
    topic        VARCHAR(200) NOT NULL,
    msg_key      VARCHAR(200) NOT NULL,
    headers      TEXT NOT NULL,
    payload      MEDIUMTEXT NOT NULL,
    created_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    published_at TIMESTAMP(6) NULL,
    KEY outbox_unpublished (published_at, id)
) ENGINE=InnoDB
"""

# GET_LOCK names are server-wide: the database name keeps relays of different databases independent.
_RELAY_LOCK = "CONCAT('cloud-bank-outbox:', DATABASE())"


async def add_to_outbox(cur: aiomysql.Cursor, envelopes: list[Envelope]) -> None:
    """Insert events through the caller's cursor, inside its open transaction."""
    rows = [OutboxRow.of(e) for e in envelopes]
    await cur.executemany(
        "INSERT INTO outbox (event_id, topic, msg_key, headers, payload) VALUES (%s, %s, %s, %s, %s)",
        [(r.event_id, r.topic, r.key, r.headers_json(), r.payload) for r in rows],
    )


async def backlog(pool: aiomysql.Pool) -> tuple[int, float]:
    """(unpublished rows, age in seconds of the oldest of them or 0), through the (published_at, id) index."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT COUNT(*), COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), CURRENT_TIMESTAMP(6)), 0) "
            "FROM outbox WHERE published_at IS NULL"
        )
        row = await cur.fetchone()
        await conn.rollback()  # end the read's snapshot: the next sample on this connection must see new rows
    return (int(row[0]), int(row[1]) / 1e6) if row else (0, 0.0)


class MySQLOutbox:
    """The relay's view of a MySQL outbox table. `claim_wait`: seconds to wait for another relay's claim to end
    before answering 0. A relay woken by its own process's commit waits instead of giving up, because the claim
    it lost may have read the table just before that commit (the rows would then wait for the next idle poll)."""

    def __init__(self, pool: aiomysql.Pool, *, claim_wait: float = 0.0) -> None:
        self._pool = pool
        self._claim_wait = claim_wait

    async def relay_batch(self, limit: int, publish: Publish) -> int:
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            # A session lock: released by RELEASE_LOCK or when a killed relay's connection drops.
            await cur.execute(f"SELECT GET_LOCK({_RELAY_LOCK}, %s)", (self._claim_wait,))
            got = await cur.fetchone()
            if not got or got[0] != 1:
                return 0
            try:
                return await self._batch(conn, cur, limit, publish)
            finally:
                await cur.execute(f"SELECT RELEASE_LOCK({_RELAY_LOCK})")
                await cur.fetchone()

    async def _batch(self, conn: Any, cur: aiomysql.Cursor, limit: int, publish: Publish) -> int:
        await conn.begin()
        try:
            await cur.execute(
                "SELECT id, event_id, topic, msg_key, headers, payload FROM outbox "
                "WHERE published_at IS NULL ORDER BY id LIMIT %s",
                (limit,),
            )
            records = await cur.fetchall()
            if records:
                await publish(
                    [
                        OutboxRow(
                            event_id=r[1],
                            topic=r[2],
                            key=r[3],
                            headers=[(k, v) for k, v in json.loads(r[4])],
                            payload=r[5],
                        )
                        for r in records
                    ]
                )
                ids = [r[0] for r in records]
                await cur.execute(
                    f"UPDATE outbox SET published_at = CURRENT_TIMESTAMP(6) WHERE id IN ({','.join(['%s'] * len(ids))})",
                    ids,
                )
            await conn.commit()
            return len(records)
        except BaseException:
            await conn.rollback()
            raise
