"""Wiring of the lake sink process: store, catalog, consumer; restarts the loop after a crash."""

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlparse

import pyarrow as pa

from consumers.runner import make_consumer
from consumers.stopping import sleep_unless_stopped
from contracts.lake import arrow_schema
from services.platform import metrics
from streams.lake.batch import FlushPolicy
from streams.lake.catalog import Catalog, GlueCatalog, NoCatalog
from streams.lake.settings import SinkSettings
from streams.lake.sink import LakeSink
from streams.lake.storage import LakeStore, S3Store, open_store, parquet_bytes

log = logging.getLogger(__name__)


def build_catalog(settings: SinkSettings, store: LakeStore) -> Catalog:
    if not isinstance(store, S3Store) or not settings.glue_database:
        return NoCatalog()
    import boto3

    glue = boto3.client("glue", endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region)
    return GlueCatalog(glue, settings.glue_database, lambda table: store.uri(table) + "/")


async def run_sink(settings: SinkSettings, stop: asyncio.Event, *, restart_delay: float = 2.0) -> None:
    """Run until `stop`; any failure drops the in-memory batches and starts over from the committed offsets,
    which is exactly what a kill -9 would do, so there is one recovery path to trust."""
    if settings.debug_kill_after_files is not None and settings.environment == "production":
        raise ValueError("debug_kill_after_files is a test drill, refused in production")
    # The first Parquet write imports half of pandas (seconds on a cold machine): do it before joining
    # the group, not inside the first flush while heartbeats are due.
    await asyncio.to_thread(_warm_up)
    store = open_store(settings.root, endpoint_url=settings.s3_endpoint_url, region=settings.aws_region)
    catalog = build_catalog(settings, store)
    policy = FlushPolicy(settings.flush_records, settings.flush_seconds)
    target = urlparse(settings.root).scheme or "file"
    log.info(
        "lake sink: %s -> %s (%s), group %s, instance %s",
        settings.topics,
        store.uri(),
        target,
        settings.group_id,
        settings.instance,
    )
    metrics.identify("lake")
    if not settings.metrics_port:
        await _sink_loop(settings, stop, store, catalog, policy, restart_delay)
        return
    listener = asyncio.create_task(metrics.serve(settings.metrics_host, settings.metrics_port, stop))
    try:
        await _sink_loop(settings, stop, store, catalog, policy, restart_delay)
    finally:
        listener.cancel()


async def _sink_loop(
    settings: SinkSettings,
    stop: asyncio.Event,
    store: LakeStore,
    catalog: Catalog,
    policy: FlushPolicy,
    restart_delay: float,
) -> None:
    while not stop.is_set():
        consumer = make_consumer(
            settings.kafka_bootstrap, settings.group_id, (), max_poll_records=settings.max_poll_records, bulk=True
        )
        sink = LakeSink(
            consumer,
            store,
            catalog,
            policy,
            group_id=settings.group_id,
            kill_after_files=settings.debug_kill_after_files,
            dedupe_window=settings.dedupe_window,
        )
        consumer.subscribe(topics=list(settings.topics), listener=sink.listener())
        try:
            await consumer.start()
            reporter = asyncio.create_task(_report(sink, stop))
            try:
                with metrics.watch_consumer(settings.group_id, consumer), metrics.watch_lake(sink):
                    await sink.run(stop)
            finally:
                reporter.cancel()
        except Exception:
            log.exception("lake sink crashed; restarting from the committed offsets")
            await sleep_unless_stopped(stop, restart_delay)
        finally:
            await consumer.stop()


def _warm_up() -> None:
    row = {"event_time": datetime.now(UTC), "saldo": Decimal("1.00")}
    parquet_bytes(pa.Table.from_pylist([row], schema=arrow_schema("cuenta_abierta")))


async def _report(sink: LakeSink, stop: asyncio.Event, every: float = 30.0) -> None:
    last = -1
    while not stop.is_set():
        await sleep_unless_stopped(stop, every)
        if sink.rows_written != last:
            last = sink.rows_written
            log.info(
                "lake sink: %d rows in %d files, %d batches, %d re-published copies dropped",
                sink.rows_written,
                sink.files_written,
                sink.batches_committed,
                sink.copies_dropped,
            )
