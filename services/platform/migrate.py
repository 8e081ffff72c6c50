"""Plain numbered SQL migrations (NNN_name.sql) applied once each at start-up, under a lock so two
instances starting together do not race."""

import logging
import re
from pathlib import Path

import aiomysql
import asyncpg

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migration_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if _NAME.match(p.name))
    numbers = [int(p.name[:3]) for p in files]
    # Gaps are allowed: work done in parallel reserves its numbers (cuentas' 006 may land before 005). A number
    # used twice is refused: the order of the two files would be an accident of their names.
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"migrations in {folder} must each have their own number: {numbers}")
    return files


def statements(sql: str) -> list[str]:
    """Split a file on `;` at line ends (our migrations hold no procedures or strings with ';\\n').
    Comment lines before a statement are dropped, not the statement they introduce."""
    out = []
    for chunk in re.split(r";\s*\n", sql):
        lines = chunk.strip().splitlines()
        while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
            lines.pop(0)
        if body := "\n".join(lines).strip():
            out.append(body)
    return out


async def migrate_postgres(conn: asyncpg.Connection, folder: Path) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    applied_now = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7404202)")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for path in migration_files(folder):
            if path.name in done:
                continue
            await conn.execute(path.read_text())  # PostgreSQL DDL is transactional: all or nothing
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", path.name)
            applied_now.append(path.name)
    if applied_now:
        log.info("applied migrations %s", applied_now)
    return applied_now


async def migrate_mysql(conn: aiomysql.Connection, folder: Path) -> list[str]:
    """MySQL twin of migrate_postgres. MySQL DDL auto-commits, so each file should be idempotent
    (IF NOT EXISTS) in case a start-up dies half-way through one."""
    applied_now = []
    async with conn.cursor() as cur:
        await cur.execute("SELECT GET_LOCK('cloud-bank-migrations', 60)")
        try:
            await cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(200) PRIMARY KEY, "
                "applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
            )
            await cur.execute("SELECT version FROM schema_migrations")
            done = {r[0] for r in await cur.fetchall()}
            for path in migration_files(folder):
                if path.name in done:
                    continue
                for stmt in statements(path.read_text()):
                    await cur.execute(stmt)
                await cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.name,))
                await conn.commit()
                applied_now.append(path.name)
        finally:
            await cur.execute("SELECT RELEASE_LOCK('cloud-bank-migrations')")
    if applied_now:
        log.info("applied migrations %s", applied_now)
    return applied_now
