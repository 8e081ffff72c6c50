"""Scratch PostgreSQL databases for integration tests: created fresh, dropped afterwards whoever is still in them."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg

from tests.integration.conftest import PG_DSN

DROP_ATTEMPTS = 60
DROP_PAUSE = 0.5


@contextlib.asynccontextmanager
async def scratch_database(prefix: str, *, create: bool = True) -> AsyncIterator[str]:
    """Yields the DSN of a new database named `prefix` + random hex (created here, or left for the code under test
    to create when `create` is False), and drops it on the way out."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    if create:
        admin = await asyncpg.connect(PG_DSN)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
    try:
        yield PG_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await drop_database(name)


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(PG_DSN)
    try:
        for _ in range(DROP_ATTEMPTS - 1):
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except asyncpg.InsufficientPrivilegeError:
                # FORCE ends the database's other sessions, but an autovacuum worker runs as the superuser, whom the
                # test role may not signal ("must be a member of the role whose process is being terminated"); it
                # finishes by itself in moments (seen once in CI, at a teardown).
                await asyncio.sleep(DROP_PAUSE)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
