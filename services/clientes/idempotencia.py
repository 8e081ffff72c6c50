"""Idempotency-Key records of clientes in PostgreSQL (table `idempotencia`), on the connection of the use case's
own transaction: the claim is its first statement, the answer its last (services/platform/idempotency.py)."""

from typing import TypeVar

import asyncpg

from services.platform.idempotency import Keyed, KeyTaken, Recorded

T = TypeVar("T")

_FIND = "SELECT huella, status, cuerpo, location FROM idempotencia WHERE clave = $1"


async def find(conn: asyncpg.Connection, clave: str) -> Recorded | None:
    row = await conn.fetchrow(_FIND, clave)
    # A committed row always carries its answer: claim and answer commit together.
    return Recorded(row["huella"], row["status"], row["cuerpo"], row["location"]) if row else None


async def claim(conn: asyncpg.Connection, keyed: Keyed[T] | None) -> None:
    """Take the key for this transaction. A request holding it uncommitted makes this INSERT wait; if that one
    commits, nothing is inserted and KeyTaken carries its answer (this transaction rolls back)."""
    if keyed is None:
        return
    taken = await conn.fetchval(
        "INSERT INTO idempotencia (clave, huella) VALUES ($1, $2) ON CONFLICT (clave) DO NOTHING RETURNING clave",
        keyed.key,
        keyed.fingerprint,
    )
    if taken is not None:
        return
    recorded = await find(conn, keyed.key)  # READ COMMITTED: this statement sees the row that just committed
    if recorded is None or recorded.status is None:
        raise RuntimeError(f"idempotency key {keyed.key!r} neither claimed nor answered")
    raise KeyTaken(recorded)


async def record(conn: asyncpg.Connection, keyed: Keyed[T] | None, result: T) -> None:
    """Store the answer beside the effect (same transaction as the claim)."""
    if keyed is None:
        return
    answer = keyed.record(result)
    await conn.execute(
        "UPDATE idempotencia SET status = $2, cuerpo = $3, location = $4 WHERE clave = $1",
        keyed.key,
        answer.status,
        answer.body,
        answer.location,
    )
