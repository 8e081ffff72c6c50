"""Idempotency-Key records of cuentas in MariaDB (table `idempotencia`), always on the cursor of the use case's
own transaction: the claim is its first statement, the answer its last (services/platform/idempotency.py)."""

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from services.cuentas.db import Cursor
from services.platform.idempotency import Keyed, KeyTaken, Recorded, utcnow

T = TypeVar("T")

_COLS = "clave, huella, status, cuerpo, location"


def _recorded(row: Sequence[Any]) -> Recorded:
    return Recorded(row[1], int(row[2]), row[3], row[4])


async def find(cur: Cursor, claves: Sequence[str]) -> dict[str, Recorded]:
    """The committed answers of these keys (a committed row always carries its answer: claim and answer commit
    together)."""
    if not claves:
        return {}
    marks = ", ".join(["%s"] * len(claves))
    await cur.execute(f"SELECT {_COLS} FROM idempotencia WHERE clave IN ({marks})", list(claves))
    return {row[0]: _recorded(row) for row in await cur.fetchall()}


async def claim(cur: Cursor, keys: Sequence[Keyed[Any]]) -> None:
    """Take the keys for this transaction. A request holding one uncommitted makes this INSERT wait on its row lock;
    if that one commits, its row is ignored here and KeyTaken carries its answer (this transaction rolls back)."""
    if not keys:
        return
    now = utcnow().replace(tzinfo=None)
    await cur.executemany(
        "INSERT IGNORE INTO idempotencia (clave, huella, created_at) VALUES (%s, %s, %s)",
        [(k.key, k.fingerprint, now) for k in keys],
    )
    if cur.rowcount == len(keys):
        return
    # A locking read, so it sees the committed rows the ignored inserts collided with (a plain read would use this
    # transaction's REPEATABLE READ snapshot). This transaction's own claims have no answer yet.
    marks = ", ".join(["%s"] * len(keys))
    await cur.execute(
        f"SELECT {_COLS} FROM idempotencia WHERE clave IN ({marks}) AND status IS NOT NULL LOCK IN SHARE MODE",
        [k.key for k in keys],
    )
    row = await cur.fetchone()
    if row is None:
        raise RuntimeError("an idempotency key was neither claimed nor answered")
    raise KeyTaken(_recorded(row))


async def record(cur: Cursor, answered: Iterable[tuple[Keyed[T], T]]) -> None:
    """Store each key's answer beside the effect (same transaction as the claim)."""
    rows = []
    for keyed, result in answered:
        answer = keyed.record(result)
        rows.append((answer.status, answer.body, answer.location, keyed.key))
    if rows:
        await cur.executemany("UPDATE idempotencia SET status = %s, cuerpo = %s, location = %s WHERE clave = %s", rows)
