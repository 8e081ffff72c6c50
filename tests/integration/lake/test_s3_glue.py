"""The S3 + Glue path against a real S3-protocol HTTP server (moto's server mode, S3 and Glue on a free
local port): the sink writes the files under the expected keys, registers tables and partitions in Glue,
and DuckDB (the analytics engine, S3 mode) reads them back."""

import asyncio
import io
import os
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from contracts.lake import TABLE_OF_TYPE
from services.analytics.duckdb_engine import DuckDBEngine
from streams.lake.main import run_sink
from streams.lake.settings import SinkSettings
from tests.conftest import eventually
from tests.integration.conftest import KAFKA
from tests.integration.lake.kafka_helpers import create_topics, delete_topics, produce
from tests.lake_events import sample_event

BUCKET = "bank-lake"
EVENTS = 500
KEY = re.compile(r"^lake/([a-z_]+)/dt=(\d{4}-\d{2}-\d{2})/(test\.s3\.[0-9a-f]+)-(\d)-(\d{12})\.parquet$")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def client(service: str, url: str) -> Any:
    make: Any = boto3.client  # its overloads want a literal service name
    return make(service, endpoint_url=url, region_name="us-east-1")


async def test_sink_a_s3_registra_en_glue_y_duckdb_lo_lee(moto_url: str, unique: str) -> None:
    topic = f"test.s3.{unique}"
    await create_topics([topic])
    s3, glue = client("s3", moto_url), client("glue", moto_url)
    s3.create_bucket(Bucket=BUCKET)
    try:
        await produce([topic], EVENTS)
        settings = SinkSettings(
            kafka_bootstrap=KAFKA,
            topics=[topic],
            group_id=f"lake.sink.s3.{unique}",
            root=f"s3://{BUCKET}/lake",
            s3_endpoint_url=moto_url,
            glue_database=f"bank_{unique}",
            flush_records=100,
            flush_seconds=0.5,
        )
        stop = asyncio.Event()
        sink = asyncio.create_task(run_sink(settings, stop))

        def data_keys() -> list[str]:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="lake/")
            return [
                o["Key"] for page in pages for o in page.get("Contents", []) if not o["Key"].startswith("lake/_sink/")
            ]

        def rows_on_s3() -> int:
            total = 0
            for key in data_keys():
                body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                total += pq.read_metadata(io.BytesIO(body)).num_rows
            return total

        async def all_rows_written() -> bool:
            return rows_on_s3() >= EVENTS

        await eventually(all_rows_written, timeout=90, interval=0.5, what="every event on S3")
        stop.set()
        await asyncio.wait_for(sink, 30)

        keys = data_keys()
        assert keys
        assert all(KEY.match(k) for k in keys), [k for k in keys if not KEY.match(k)][:3]
        tables = {KEY.match(k).group(1) for k in keys}  # type: ignore[union-attr]
        expected_tables = {TABLE_OF_TYPE[sample_event(n, datetime.now(UTC)).type] for n in range(5)}
        assert tables == expected_tables
        manifests = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"lake/_sink/{settings.group_id}/")["KeyCount"]
        assert manifests == 3  # one per partition

        database = settings.glue_database
        glue_tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=database)["TableList"]}
        assert set(glue_tables) == expected_tables
        for table in expected_tables:
            sd = glue_tables[table]["StorageDescriptor"]
            assert sd["Location"] == f"s3://{BUCKET}/lake/{table}/"
            assert [k["Name"] for k in glue_tables[table]["PartitionKeys"]] == ["dt"]
            assert {"Name": "saldo", "Type": "decimal(15,2)"} in sd["Columns"] or table != "cuenta_abierta"
            partitions = glue.get_partitions(DatabaseName=database, TableName=table)["Partitions"]
            registered = {p["Values"][0] for p in partitions}
            on_s3 = {m.group(2) for m in map(KEY.match, keys) if m and m.group(1) == table}
            assert registered == on_s3
            assert all(
                p["StorageDescriptor"]["Location"].endswith(f"/{table}/dt={p['Values'][0]}/") for p in partitions
            )

        engine = DuckDBEngine(f"s3://{BUCKET}/lake", s3_endpoint_url=moto_url, listing_ttl=0)
        await engine.start()
        try:
            total = 0
            for table in expected_tables:
                result = await engine.query(f"SELECT COUNT(*) FROM {table}", timeout=30)
                total += result.rows[0][0]
            assert total == EVENTS
            clientes = await engine.query("SELECT COUNT(*), MIN(numero_documento) FROM clientes", timeout=30)
            assert clientes.rows[0][0] == EVENTS // 5
            saldos = await engine.query("SELECT SUM(saldo) FROM cuentas", timeout=30)
            assert str(saldos.rows[0][0]) == f"{(EVENTS // 5) * 100}.00"  # every cuenta opened with 100.00
        finally:
            await engine.close()
    finally:
        await delete_topics([topic])
