"""Pure batching rules of the sink: per-partition buffers, when to flush, and which files a flush writes.

A batch is a contiguous run of offsets of ONE Kafka partition. Its files (one per table and date it
touches) are all named after the batch's first offset, e.g. `cuenta_abierta/dt=2025-01-31/
bank.cuentas.v1-3-000000001234.parquet`, so the same batch always yields the same paths.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from contracts.lake import PARTITION_COLUMN, arrow_schema
from streams.lake.records import LakeRow


def file_name(topic: str, partition: int, first_offset: int) -> str:
    return f"{topic}-{partition}-{first_offset:012d}.parquet"


def file_path(table: str, dt: str, topic: str, partition: int, first_offset: int) -> str:
    """Path relative to the lake root."""
    return f"{table}/{PARTITION_COLUMN}={dt}/{file_name(topic, partition, first_offset)}"


@dataclass
class PartitionBuffer:
    """Rows consumed from one partition and not yet written; `started` is when the first one arrived."""

    topic: str
    partition: int
    started: float = 0.0
    rows: list[LakeRow] = field(default_factory=list)

    def add(self, rows: list[LakeRow], now: float) -> None:
        if not rows:
            return
        if not self.rows:
            self.started = now
        if self.rows and rows[0].offset <= self.rows[-1].offset:
            raise ValueError("offsets must grow within a partition buffer")
        self.rows.extend(rows)

    @property
    def first_offset(self) -> int:
        return self.rows[0].offset

    @property
    def last_offset(self) -> int:
        return self.rows[-1].offset


@dataclass(frozen=True)
class FlushPolicy:
    """Flush a partition when it holds `max_records`, or when its oldest row waited `max_seconds`."""

    max_records: int
    max_seconds: float

    def due(self, buffer: PartitionBuffer, now: float) -> bool:
        if not buffer.rows:
            return False
        return len(buffer.rows) >= self.max_records or now - buffer.started >= self.max_seconds

    def next_deadline(self, buffers: list[PartitionBuffer]) -> float | None:
        starts = [b.started for b in buffers if b.rows]
        return min(starts) + self.max_seconds if starts else None


@dataclass(frozen=True)
class PlannedFile:
    path: str
    table: str
    dt: str
    data: pa.Table


def plan_files(buffer: PartitionBuffer, rows: Sequence[LakeRow] | None = None) -> list[PlannedFile]:
    """Every row of the batch (or `rows`, the ones of it that are kept) in exactly one file; all files of the batch
    named by the batch's first offset, kept or not."""
    groups: dict[tuple[str, str], list[LakeRow]] = defaultdict(list)
    for row in buffer.rows if rows is None else rows:
        groups[(row.table, row.dt)].append(row)
    planned = []
    for (table, dt), rows in sorted(groups.items()):
        data = pa.Table.from_pylist([r.values for r in rows], schema=arrow_schema(table))
        path = file_path(table, dt, buffer.topic, buffer.partition, buffer.first_offset)
        planned.append(PlannedFile(path=path, table=table, dt=dt, data=data))
    return planned


class EventWindow:
    """The ids of the last `size` events the lake holds from one partition, oldest first.

    Why a window per partition is enough: an outbox relay re-publishes an event with the same key, so the copy
    lands in the same partition as the original, shortly after it (a relay re-sends what it had not marked yet
    when it died, seconds of traffic, far fewer than `size` records)."""

    def __init__(self, size: int, ids: Iterable[str] = ()) -> None:
        self.size = size
        self._ids: dict[str, None] = {}
        self.add(ids)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: Iterable[str]) -> None:
        for event_id in ids:
            self._ids.pop(event_id, None)
            self._ids[event_id] = None
        excess = len(self._ids) - self.size
        if excess > 0:
            for event_id in list(self._ids)[:excess]:
                del self._ids[event_id]

    def ids(self) -> list[str]:
        return list(self._ids)


def drop_copies(rows: Sequence[LakeRow], window: EventWindow) -> tuple[list[LakeRow], list[str]]:
    """The rows whose event id is neither in `window` nor earlier in `rows`, and their ids (rows without an id, an
    unreadable record's, are all kept)."""
    kept: list[LakeRow] = []
    ids: list[str] = []
    seen: set[str] = set()
    for row in rows:
        event_id = row.event_id
        if event_id is not None:
            if event_id in window or event_id in seen:
                continue
            seen.add(event_id)
            ids.append(event_id)
        kept.append(row)
    return kept, ids
