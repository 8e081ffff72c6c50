"""The lake sink loop: Kafka -> per-partition batches -> Parquet files -> commit.

Exactly-once in the lake (every record of the topics in exactly one file), argued:

1. A batch is a contiguous run of offsets [F, L] of ONE partition. Its rows are split by table and date
   into files that are ALL named after F (`<table>/dt=<date>/<topic>-<partition>-<F>.parquet`), so
   events of different tables from the same partition batch are flushed together, under one name.
   Within a batch every row goes to exactly one file.
2. Before the first file of a batch is written, the batch's manifest (F, L and the list of its paths) is
   made durable at `_sink/<group>/<topic>-<partition>.json`, replacing the previous batch's manifest.
   Files are durable before they count: fsync + atomic rename locally, a single PUT on S3.
3. Offset L+1 is committed only after every file of the batch is durable (and registered in Glue).
   So per partition at most one batch is ever uncommitted: the one the manifest describes.
4. When a partition is assigned (start, restart after kill -9, rebalance) with committed offset C,
   and the manifest's F >= C, that batch never committed: its files (complete, partial or absent) are
   deleted before this owner writes anything for the partition (in the rebalance listener, or at the
   latest just before the first flush, since the fetcher may deliver records before the listener
   runs). Consumption resumes at C, which is F of that lost batch.
   - Without step 4, the same name would already make the common case safe: the reprocessed batch starts
     at the same F, so its files overwrite the old ones, and a superset (100-250 replacing 100-180) loses
     nothing. But boundaries are by count OR time, so the reprocessed batch may be a SUBSET
     (100-180 replacing 100-250): a table/date file of the old batch that the new one does not touch
     would survive, and 181-250 would be written again under name 181 -> duplicates. Step 4 removes
     that file first, so the argument does not depend on batch boundaries at all.
   - Files of committed batches (F < C) are never touched again: their offsets are never re-read by the
     group (an operator who resets the group's offsets must start from an empty lake).
5. Flushes, step 4 and revocation all hold one lock, so step 4 never sees a batch half-way between
   "files written" and "committed" of its own owner; on revocation the buffer is flushed and committed
   first, so no flush of ours overlaps the new owner's step 4.
Hence each offset < C is in exactly one file (1-3), offsets >= C in none (4), and reprocessing brings the
lake to the same state whatever the batch boundaries.

6. Exactly-once per EVENT, not only per record: an outbox relay that dies between publishing and marking
   re-publishes, so one event id may be in two records. The copy has the original's key, so it is in the same
   partition, a little later. Each partition's manifest also holds `window`, the ids of the last
   `dedupe_window` events written from the partition before the batch, and `batch_ids`, those the batch writes;
   a batch drops the rows whose id is in the window or earlier in the batch. A new owner (start, rebalance,
   kill -9) rebuilds the window from the manifest: `window` + `batch_ids` when that batch was committed,
   `window` alone when step 4 removed it (its ids are not in the lake: they come again). So the window is always
   the lake's own content, whoever owns the partition, and a copy within `dedupe_window` records of its
   original is never written. The manifest is written in one piece (atomic rename / one PUT) before the files,
   as in step 2, so it is valid on a local folder and on S3 alike.

Why not consumers.runner.ConsumerLoop: it commits each poll once its records are handled, while a batch here
spans many polls and is committed only when its files are durable (step 3). The consumer itself comes from
consumers.runner.make_consumer (manual commits, read_committed), like every other group member.
"""

import asyncio
import json
import logging
import os
import signal
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError

from consumers import tracing
from streams.lake.batch import EventWindow, FlushPolicy, PartitionBuffer, drop_copies, plan_files
from streams.lake.catalog import Catalog
from streams.lake.records import LakeRow, to_row
from streams.lake.storage import LakeStore, parquet_bytes

log = logging.getLogger(__name__)


def manifest_path(group_id: str, topic: str, partition: int) -> str:
    return f"_sink/{group_id}/{topic}-{partition}.json"


class LakeSink:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        store: LakeStore,
        catalog: Catalog,
        policy: FlushPolicy,
        *,
        group_id: str,
        clock: Callable[[], float] = time.monotonic,
        kill_after_files: int | None = None,
        dedupe_window: int = 10_000,
    ) -> None:
        self._consumer = consumer
        self._store = store
        self._catalog = catalog
        self._policy = policy
        self._group = group_id
        self._clock = clock
        self._kill_after_files = kill_after_files
        self._buffers: dict[TopicPartition, PartitionBuffer] = {}
        self._lock = asyncio.Lock()
        self._cleaned: set[TopicPartition] = set()  # step 4 done since this partition was assigned
        self._dedupe = dedupe_window
        self._windows: dict[TopicPartition, EventWindow] = {}  # step 6, loaded by step 4
        self.rows_written = 0
        self.copies_dropped = 0
        self.files_written = 0
        self.batches_committed = 0

    def listener(self) -> ConsumerRebalanceListener:
        return _Rebalance(self)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop`, then flush what is buffered (a graceful stop loses no progress)."""
        while not stop.is_set():
            batches = await self._consumer.getmany(timeout_ms=self._poll_timeout_ms())
            # Parsing and validating is CPU work: off the event loop, so heartbeats keep flowing.
            parsed = await asyncio.to_thread(_parse, batches)
            tracing.received((r for records in batches.values() for r in records), self._group)  # the lake's hop
            now = self._clock()
            async with self._lock:
                for tp, rows in parsed.items():
                    if tp not in self._consumer.assignment():
                        continue  # revoked while we were fetching: the new owner reads it again
                    while rows:  # a poll may bring more than a batch: cut at max_records
                        buffer = self._buffers.setdefault(tp, PartitionBuffer(tp.topic, tp.partition))
                        room = max(1, self._policy.max_records - len(buffer.rows))
                        buffer.add(rows[:room], now)
                        rows = rows[room:]
                        if self._policy.due(buffer, now):
                            await self._flush(tp)
                for tp in [tp for tp, b in self._buffers.items() if self._policy.due(b, now)]:
                    await self._flush(tp)
        await self.flush_all()

    async def flush_all(self) -> None:
        async with self._lock:
            for tp in list(self._buffers):
                await self._flush(tp)

    def _poll_timeout_ms(self) -> int:
        deadline = self._policy.next_deadline(list(self._buffers.values()))
        if deadline is None:
            return 500
        return int(max(0.0, min(0.5, deadline - self._clock())) * 1000)

    async def _flush(self, tp: TopicPartition) -> None:
        """Caller holds the lock. Raises on storage errors without committing (the caller restarts)."""
        buffer = self._buffers.pop(tp, None)
        if buffer is None or not buffer.rows:
            return
        # The fetcher may hand us records before the rebalance listener ran: never write (and so
        # overwrite the manifest) before the previous owner's uncommitted batch is removed.
        await self._ensure_clean(tp)
        await asyncio.to_thread(self._write_batch, buffer)
        try:
            await self._consumer.commit({tp: buffer.last_offset + 1})
        except CommitFailedError:
            # The group rebalanced under us: the files stay uncommitted and step 4 removes them when
            # the partition is assigned again (to us or to another sink).
            log.warning("%s-%d: commit refused by a rebalance; batch will be redone", tp.topic, tp.partition)
            return
        self.batches_committed += 1
        log.debug("%s-%d: committed %d..%d", tp.topic, tp.partition, buffer.first_offset, buffer.last_offset)

    def _write_batch(self, buffer: PartitionBuffer) -> None:
        tp = TopicPartition(buffer.topic, buffer.partition)
        window = self._windows.setdefault(tp, EventWindow(self._dedupe))
        rows, ids = drop_copies(buffer.rows, window) if self._dedupe else (buffer.rows, [])
        if len(rows) < len(buffer.rows):
            self.copies_dropped += len(buffer.rows) - len(rows)
            log.info(
                "%s-%d: %d re-published event(s) already in the lake dropped from batch %d..%d",
                buffer.topic,
                buffer.partition,
                len(buffer.rows) - len(rows),
                buffer.first_offset,
                buffer.last_offset,
            )
        files = plan_files(buffer, rows)
        manifest = {
            "topic": buffer.topic,
            "partition": buffer.partition,
            "first_offset": buffer.first_offset,
            "last_offset": buffer.last_offset,
            "paths": [f.path for f in files],
            "window": window.ids(),
            "batch_ids": ids,
        }
        self._store.put(manifest_path(self._group, buffer.topic, buffer.partition), json.dumps(manifest).encode())
        dates: dict[str, set[str]] = defaultdict(set)
        for planned in files:
            self._store.put(planned.path, parquet_bytes(planned.data))
            self.files_written += 1
            self.rows_written += planned.data.num_rows
            dates[planned.table].add(planned.dt)
            if self._kill_after_files is not None and self.files_written >= self._kill_after_files:
                log.warning("crash drill: SIGKILL after %d files, mid-flush", self.files_written)
                os.kill(os.getpid(), signal.SIGKILL)
        for table, dts in dates.items():
            self._catalog.register(table, dts)
        # Durable: the lake holds them (if the commit is refused, step 4 removes them and reloads the window).
        window.add(ids)

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions assigned: %s", ", ".join(f"{tp.topic}-{tp.partition}" for tp in sorted(assigned)))
        async with self._lock:
            for tp in sorted(assigned):
                await self._ensure_clean(tp)

    async def _ensure_clean(self, tp: TopicPartition) -> None:
        """Step 4 of the argument: remove the files of a batch that was written but never committed.
        Caller holds the lock; done once per assignment, before this owner writes anything."""
        if tp in self._cleaned:
            return
        committed = await self._consumer.committed(tp)
        raw = await asyncio.to_thread(self._store.get, manifest_path(self._group, tp.topic, tp.partition))
        manifest: dict[str, Any] | None = json.loads(raw) if raw is not None else None
        if manifest is not None and (committed is None or manifest["first_offset"] >= committed):
            log.warning(
                "%s-%d: removing %d file(s) of uncommitted batch %d..%d (committed=%s)",
                tp.topic,
                tp.partition,
                len(manifest["paths"]),
                manifest["first_offset"],
                manifest["last_offset"],
                committed,
            )
            await asyncio.to_thread(self._store.delete, list(manifest["paths"]))
            ids = manifest.get("window", [])  # that batch's ids are not in the lake any more
        else:
            ids = [*manifest.get("window", []), *manifest.get("batch_ids", [])] if manifest is not None else []
        self._windows[tp] = EventWindow(self._dedupe, ids)
        self._cleaned.add(tp)

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            for tp in revoked:
                try:
                    await self._flush(tp)
                except Exception:
                    # The new owner reprocesses from the committed offset and cleans up (step 4).
                    log.exception("%s-%d: flush on revocation failed", tp.topic, tp.partition)
                self._cleaned.discard(tp)
                self._windows.pop(tp, None)


def _parse(batches: dict[TopicPartition, list[Any]]) -> dict[TopicPartition, list[LakeRow]]:
    return {tp: [to_row(r) for r in records] for tp, records in batches.items()}


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, sink: LakeSink) -> None:
        self._sink = sink

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._sink.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._sink.on_assigned(assigned)
