"""Connections to MariaDB / MySQL 8 (aiomysql): the pools, transactions, the schema at start-up, and the few
driver details (warnings, error codes) the rest of the service should not know about."""

import contextlib
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeAlias
from urllib.parse import unquote, urlsplit

import aiomysql
import pymysql

from consumers.inbox import INBOX_DDL_MYSQL
from producers.outbox_mysql import OUTBOX_DDL
from services.platform.migrate import migrate_mysql

MIGRATIONS: Final = Path(__file__).with_name("migrations")
ER_DUP_ENTRY: Final = 1062

Cursor: TypeAlias = aiomysql.Cursor


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    user: str
    password: str
    name: str

    @classmethod
    def from_url(cls, url: str) -> "Database":
        """From mysql://user:password@host:port/db (the database defaults to cuentas)."""
        parts = urlsplit(url)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            name=parts.path.lstrip("/") or "cuentas",
        )


async def ensure_database(db: Database) -> None:
    conn = await aiomysql.connect(host=db.host, port=db.port, user=db.user, password=db.password, autocommit=True)
    try:
        with _quiet():
            async with conn.cursor() as cur:
                await cur.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{db.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
    finally:
        conn.close()


async def open_pool(db: Database, *, maxsize: int) -> aiomysql.Pool:
    """A pool in autocommit, so every plain read sees fresh data; writes run in explicit transactions
    (`transaction`). Strict SQL mode and UTC are fixed per session, not left to the server's configuration."""
    return await aiomysql.create_pool(
        host=db.host,
        port=db.port,
        user=db.user,
        password=db.password,
        db=db.name,
        minsize=1,
        maxsize=maxsize,
        autocommit=True,
        charset="utf8mb4",
        init_command="SET SESSION time_zone = '+00:00', "
        "sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
        pool_recycle=3600,
    )


async def migrate(pool: aiomysql.Pool) -> list[str]:
    """The shared outbox/inbox tables (their DDL lives with the relay and the inbox helpers), then our migrations."""
    async with pool.acquire() as conn:
        with _quiet():
            async with conn.cursor() as cur:
                await cur.execute(OUTBOX_DDL)
                await cur.execute(INBOX_DDL_MYSQL)
            return await migrate_mysql(conn, MIGRATIONS)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """IF NOT EXISTS statements raise a server note ("already exists") that pymysql turns into a Warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pymysql.Warning)
        yield


@contextlib.asynccontextmanager
async def transaction(pool: aiomysql.Pool, *, on_commit: Callable[[], None] | None = None) -> AsyncIterator[Cursor]:
    """A cursor inside BEGIN ... COMMIT; rolled back if the block raises. `on_commit` runs once committed."""
    async with pool.acquire() as conn:
        await conn.begin()
        try:
            async with conn.cursor() as cur:
                yield cur
            await conn.commit()
        except BaseException:
            # A dead connection cannot roll back; closing it is enough (the server drops its transaction).
            try:
                await conn.rollback()
            except Exception:
                conn.close()
            raise
        if on_commit is not None:
            on_commit()


@contextlib.asynccontextmanager
async def reading(pool: aiomysql.Pool) -> AsyncIterator[Cursor]:
    """A cursor on an autocommit connection: each statement sees the latest committed data."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        yield cur


@contextlib.asynccontextmanager
async def snapshot(db: Database) -> AsyncIterator[Cursor]:
    """A cursor in a READ ONLY transaction with a consistent snapshot, on a connection of its own: every statement
    sees the database as it was at the start, whatever commits meanwhile."""
    conn = await aiomysql.connect(
        host=db.host, port=db.port, user=db.user, password=db.password, db=db.name, autocommit=False
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            await cur.execute("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT")
            yield cur
            await conn.rollback()
    finally:
        conn.close()


async def ping(pool: aiomysql.Pool) -> None:
    async with reading(pool) as cur:
        await cur.execute("SELECT 1")
        await cur.fetchone()


def is_duplicate(exc: BaseException, key: str) -> bool:
    return isinstance(exc, pymysql.err.IntegrityError) and exc.args[0] == ER_DUP_ENTRY and key in str(exc.args[1])
