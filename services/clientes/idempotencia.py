"""Idempotency-Key records of clientes in PostgreSQL (table `idempotencia`), on the connection of the use case's
own transaction: the claim is its first statement, the answer its last (services/platform/idempotency.py)."""

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import asyncpg

from services.platform.idempotency import Keyed, KeyTaken, Recorded

T = TypeVar("T")


def _recorded(row: asyncpg.Record) -> Recorded:
    return Recorded(row["huella"], row["status"], row["cuerpo"], row["location"])


async def find(conn: asyncpg.Connection, claves: Sequence[str]) -> dict[str, Recorded]:
    """The committed answers of these keys (a committed row always carries its answer: claim and answer commit
    together)."""
    if not claves:
        return {}
    rows = await conn.fetch(
        "SELECT clave, huella, status, cuerpo, location FROM idempotencia WHERE clave = ANY($1::text[])", list(claves)
    )
    return {row["clave"]: _recorded(row) for row in rows}


async def claim(conn: asyncpg.Connection, keys: Sequence[Keyed[Any]]) -> None:
    """Take the keys for this transaction. A request holding one uncommitted makes this INSERT wait; if that one
    commits, its key is skipped here and KeyTaken carries its answer (this transaction rolls back)."""
    if not keys:
        return
    taken = await conn.fetch(
        "INSERT INTO idempotencia (clave, huella) SELECT * FROM unnest($1::text[], $2::text[]) "
        "ON CONFLICT (clave) DO NOTHING RETURNING clave",
        [k.key for k in keys],
        [k.fingerprint for k in keys],
    )
    if len(taken) == len(keys):
        return
    mine = {r["clave"] for r in taken}
    # READ COMMITTED: this statement sees the rows that committed while the insert waited.
    others = await find(conn, [k.key for k in keys if k.key not in mine])
    if not others:
        raise RuntimeError("an idempotency key was neither claimed nor answered")
    raise KeyTaken(next(iter(others.values())))


async def record(conn: asyncpg.Connection, answered: Iterable[tuple[Keyed[T], T]]) -> None:
    """Store each key's answer beside the effect (same transaction as the claim)."""
    rows = []
    for keyed, result in answered:
        answer = keyed.record(result)
        rows.append((keyed.key, answer.status, answer.body, answer.location))
    if rows:
        await conn.executemany("UPDATE idempotencia SET status = $2, cuerpo = $3, location = $4 WHERE clave = $1", rows)
