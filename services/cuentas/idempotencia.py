"""Idempotency-Key records of cuentas in MariaDB (table `idempotencia`), always on the cursor of the use case's
own transaction: the claim is its first statement, the answer its last (services/platform/idempotency.py)."""

from typing import Any

from services.cuentas.db import Cursor
from services.platform.idempotency import Keyed, KeyTaken, Recorded, utcnow


async def find(cur: Cursor, clave: str) -> Recorded | None:
    await cur.execute("SELECT huella, status, cuerpo, location FROM idempotencia WHERE clave = %s", (clave,))
    row = await cur.fetchone()
    # A committed row always carries its answer: claim and answer commit together.
    return Recorded(row[0], int(row[1]), row[2], row[3]) if row else None


async def claim(cur: Cursor, keyed: Keyed[Any] | None) -> None:
    """Take the key for this transaction. A request holding it uncommitted makes this INSERT wait on its row lock;
    if that one commits, the insert is ignored and KeyTaken carries its answer (this transaction rolls back)."""
    if keyed is None:
        return
    await cur.execute(
        "INSERT IGNORE INTO idempotencia (clave, huella, created_at) VALUES (%s, %s, %s)",
        (keyed.key, keyed.fingerprint, utcnow().replace(tzinfo=None)),
    )
    if cur.rowcount == 1:
        return
    # A locking read: the row the ignored insert collided with, committed (a plain read would see this
    # transaction's REPEATABLE READ snapshot, which may predate it).
    await cur.execute(
        "SELECT huella, status, cuerpo, location FROM idempotencia WHERE clave = %s LOCK IN SHARE MODE", (keyed.key,)
    )
    row = await cur.fetchone()
    if row is None or row[1] is None:
        raise RuntimeError(f"idempotency key {keyed.key!r} neither claimed nor answered")
    raise KeyTaken(Recorded(row[0], int(row[1]), row[2], row[3]))


async def record(cur: Cursor, keyed: Keyed[Any] | None, result: Any) -> None:
    """Store the answer beside the effect (same transaction as the claim)."""
    if keyed is None:
        return
    answer = keyed.record(result)
    await cur.execute(
        "UPDATE idempotencia SET status = %s, cuerpo = %s, location = %s WHERE clave = %s",
        (answer.status, answer.body, answer.location, keyed.key),
    )
