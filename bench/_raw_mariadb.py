"""The floor under every cuentas write path: bare conditional UPDATEs of a balance on a scratch copy of the table,
shared by bench_cuentas (ledger + outbox path) and bench_saga (the saga's debit step)."""

import uuid
from typing import Any

import aiomysql

from bench._harness import measure

MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "bank", "password": "bank"}


async def raw_balance_updates(
    name: str, requests: int, levels: list[int], accounts: int, *, credits_too: bool
) -> list[dict[str, Any]]:
    """`UPDATE cuentas SET saldo = saldo - m WHERE ... AND saldo >= m` (and, with `credits_too`, every other one a
    `+ m`) in autocommit, at each concurrency level; the scratch database is dropped afterwards."""
    scratch = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await aiomysql.connect(**MYSQL, autocommit=True)
    async with admin.cursor() as cur:
        await cur.execute(f"CREATE DATABASE `{scratch}`")
        await cur.execute(f"CREATE TABLE `{scratch}`.cuentas LIKE cuentas.cuentas")
        await cur.executemany(
            f"INSERT INTO `{scratch}`.cuentas (cliente_id, tipo_cuenta_id, numero_cuenta, saldo, moneda, estado, "
            "fecha_apertura) VALUES (%s, 1, %s, 1000000.00, 'PEN', 'activa', UTC_TIMESTAMP(6))",
            [(1, f"{i:013d}") for i in range(accounts)],
        )
        await cur.execute(f"SELECT cuenta_id FROM `{scratch}`.cuentas")
        ids = [r[0] for r in await cur.fetchall()]
    pool = await aiomysql.create_pool(**MYSQL, db=scratch, autocommit=True, minsize=1, maxsize=max(levels))
    try:

        async def update(i: int) -> None:
            cuenta_id = ids[i % len(ids)]
            async with pool.acquire() as conn, conn.cursor() as cur:
                if credits_too and i % 2 == 0:
                    await cur.execute(
                        "UPDATE cuentas SET saldo = saldo + %s WHERE cuenta_id = %s AND estado = 'activa'",
                        ("1.00", cuenta_id),
                    )
                else:
                    await cur.execute(
                        "UPDATE cuentas SET saldo = saldo - %s WHERE cuenta_id = %s AND estado = 'activa' "
                        "AND saldo >= %s",
                        ("1.00", cuenta_id, "1.00"),
                    )
                if cur.rowcount != 1:
                    raise RuntimeError("conditional update matched no row")

        await measure("warm-up", update, requests=min(500, requests), concurrency=min(levels))
        return [await measure(name, update, requests=requests * 2, concurrency=c) for c in levels]
    finally:
        pool.close()
        await pool.wait_closed()
        async with admin.cursor() as cur:
            await cur.execute(f"DROP DATABASE `{scratch}`")
        admin.close()
