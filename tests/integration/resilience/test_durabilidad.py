"""The running databases and broker apply the durability mode `make status` reports (durable by default)."""

from pathlib import Path

import aiomysql
import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.integration import stack
from tests.integration.conftest import KAFKA, MYSQL, PG_DSN

RUN = stack.ROOT / ".run"
# What each mode sets (infra/bin/*.sh): PostgreSQL fsync/synchronous_commit/full_page_writes, InnoDB's
# flush_log_at_trx_commit, FerretDB's SQLite pragma, Kafka's log.flush.interval.messages (None: Kafka's "never").
PG = {"durable": ("on", "on", "on"), "relaxed": ("off", "off", "off")}
INNODB = {"durable": 1, "relaxed": 2}
SQLITE = {"durable": "synchronous(full)", "relaxed": "synchronous(normal)"}
KAFKA_FLUSH = {"durable": "1", "relaxed": None}


def _mode(program: str) -> str:
    return (RUN / f"durability.{program}").read_text().strip()


async def test_postgres_aplica_el_modo() -> None:
    conn = await asyncpg.connect(PG_DSN)
    try:
        got = tuple(
            [await conn.fetchval(f"SHOW {name}") for name in ("fsync", "synchronous_commit", "full_page_writes")]
        )
    finally:
        await conn.close()
    assert got == PG[_mode("postgres")]


async def test_mariadb_aplica_el_modo() -> None:
    conn = await aiomysql.connect(**MYSQL)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT @@innodb_flush_log_at_trx_commit, @@log_bin, @@sync_binlog")
            flush, log_bin, sync_binlog = await cur.fetchone()
    finally:
        conn.close()
    assert flush == INNODB[_mode("mariadb")]
    assert not log_bin or sync_binlog == 1, "a binary log must be fsynced at every commit too"


def test_ferretdb_aplica_el_modo() -> None:
    cmdline = Path(f"/proc/{stack.pid('ferretdb')}/cmdline").read_bytes().decode()
    assert SQLITE[_mode("ferretdb")] in cmdline


async def test_kafka_aplica_el_modo() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        [described] = await admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")])
    finally:
        await admin.close()
    configs = {c[0]: c[1] for c in described.resources[0][4]}
    want = KAFKA_FLUSH[_mode("kafka")]
    flush = configs["log.flush.interval.messages"]
    assert flush == want if want else int(flush) > 1_000_000, flush
