"""Fresh test topics, events produced to them, and what a lake folder holds, for the lake tests."""

import asyncio
import json
import os
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pyarrow.dataset as ds
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.envelope import envelope_for
from contracts.lake import TABLES
from producers.kafka import make_producer
from tests.integration.conftest import KAFKA
from tests.lake_events import sample_event

ROOT = Path(__file__).resolve().parents[3]
Position = tuple[str, int, int]


async def create_topics(names: Sequence[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names])
    finally:
        await admin.close()


async def delete_topics(names: Sequence[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_topics(list(names))
    except Exception:  # cleanup only
        pass
    finally:
        await admin.close()


async def produce(topics: Sequence[str], count: int, *, garbage: int = 0) -> tuple[set[Position], set[str]]:
    """`count` valid events spread over `topics` (two event dates) plus `garbage` non-CloudEvent records.
    Returns every record's (topic, partition, offset) and the valid events' ids."""
    producer = make_producer(KAFKA, client_id="lake-test")
    await producer.start()
    now = datetime.now(UTC)
    try:
        futures = []
        ids = set()
        for n in range(count):
            env = envelope_for(sample_event(n, now - timedelta(days=n % 2)), source="/lake-test")
            ids.add(env.id)
            futures.append(
                await producer.send(topics[n % len(topics)], env.value(), key=env.key, headers=env.headers())
            )
        for g in range(garbage):
            futures.append(await producer.send(topics[0], b"{not json", key=f"g{g}".encode(), headers=[("x", b"1")]))
        metadata = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return {(m.topic, m.partition, m.offset) for m in metadata}, ids


def lake_contents(root: Path) -> tuple[list[Position], list[str]]:
    """Every row's (topic, partition, offset) and every non-null event_id, across all tables. A running sink may
    remove an uncommitted batch's files between the listing and the read (step 4 of streams/lake/sink.py): then the
    folder is read again."""
    for _ in range(20):
        try:
            return _lake_contents(root)
        except FileNotFoundError:
            continue
    return _lake_contents(root)


def _lake_contents(root: Path) -> tuple[list[Position], list[str]]:
    positions: list[Position] = []
    ids: list[str] = []
    for table in TABLES:
        files = [str(f) for f in (root / table).glob("dt=*/*.parquet")]
        if not files:
            continue
        data = ds.dataset(files, format="parquet").to_table(
            columns=["kafka_topic", "kafka_partition", "kafka_offset", "event_id"]
        )
        positions += zip(
            data["kafka_topic"].to_pylist(),
            data["kafka_partition"].to_pylist(),
            data["kafka_offset"].to_pylist(),
            strict=True,
        )
        ids += [i for i in data["event_id"].to_pylist() if i is not None]
    return positions, ids


def start_sink(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/bank"), "lake", "sink"],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


def sink_env(topics: Sequence[str], root: Path, group: str, **extra: str) -> dict[str, str]:
    return {
        "LAKE_KAFKA_BOOTSTRAP": KAFKA,
        "LAKE_TOPICS": json.dumps(list(topics)),
        "LAKE_ROOT": str(root),
        "LAKE_GROUP_ID": group,
        "LAKE_FLUSH_SECONDS": "0.5",
        **extra,
    }
