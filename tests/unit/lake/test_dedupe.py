"""Exactly-once per event id in the lake: an outbox's re-published copy (same id, same partition, later offset)
is dropped, across batches, restarts, crashes mid-flush and a change of owner, with a fake consumer and a real
folder."""

import asyncio
import dataclasses
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from aiokafka import TopicPartition

from contracts.lake import TABLES
from streams.lake.batch import EventWindow, FlushPolicy, drop_copies
from streams.lake.catalog import NoCatalog
from streams.lake.records import LakeRow
from streams.lake.sink import LakeSink
from streams.lake.storage import LocalStore
from tests.conftest import eventually
from tests.unit.lake.fakes import FailingStore, FakeConsumer, Record, record
from tests.unit.lake.test_sink import run_until_drained

TOPIC = "bank.transacciones.v1"
GROUP = "lake.sink"
TP = TopicPartition(TOPIC, 0)


def with_copies(originals: int, copies: dict[int, int]) -> dict[TopicPartition, list[Record]]:
    """`originals` records, then at offset `at` a copy of the record at offset `of` for each at: of."""
    log = [record(TOPIC, 0, o) for o in range(originals)]
    for at, of in sorted(copies.items()):
        assert at >= len(log), "copies come after the originals"
        log += [record(TOPIC, 0, o) for o in range(len(log), at)]
        log.append(dataclasses.replace(log[of], offset=at))
    return {TP: log}


def lake_ids(root: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for table in TABLES:
        files = sorted((root / table).glob("dt=*/*.parquet"))
        if files:
            found.update(ds.dataset([str(f) for f in files]).to_table(columns=["event_id"])["event_id"].to_pylist())
    return found


def distinct_ids(log: dict[TopicPartition, list[Record]]) -> set[str]:
    return {dict(r.headers)["ce_id"].decode() for records in log.values() for r in records}


def sink(consumer: FakeConsumer, store: LocalStore, size: int, window: int = 10_000) -> LakeSink:
    return LakeSink(consumer, store, NoCatalog(), FlushPolicy(size, 60), group_id=GROUP, dedupe_window=window)  # type: ignore[arg-type]


def row(offset: int, event_id: str | None) -> LakeRow:
    return LakeRow(table="t", dt="2025-01-01", offset=offset, values={"event_id": event_id})


def test_la_ventana_recuerda_los_ultimos_ids():
    window = EventWindow(3, ["a", "b"])
    window.add(["c", "d", "b"])
    assert window.ids() == ["c", "d", "b"]
    assert "a" not in window
    assert "b" in window


def test_se_descartan_copias_de_la_ventana_y_del_mismo_lote_pero_no_filas_sin_id():
    kept, ids = drop_copies([row(0, "x"), row(1, "y"), row(2, "y"), row(3, None), row(4, None)], EventWindow(10, ["x"]))
    assert [r.offset for r in kept] == [1, 3, 4]
    assert ids == ["y"]


@pytest.mark.parametrize("size", [4, 9, 100])
async def test_una_copia_republicada_queda_una_vez_en_el_lago(tmp_path, size):
    log = with_copies(30, {30: 2, 33: 29, 34: 0, 40: 31})
    consumer = FakeConsumer(log, chunk=5)
    await run_until_drained(sink(consumer, LocalStore(tmp_path), size), consumer)

    ids = lake_ids(tmp_path)
    assert set(ids) == distinct_ids(log)
    assert max(ids.values()) == 1


async def test_tras_reinicio_la_ventana_sale_del_manifiesto(tmp_path):
    log = with_copies(20, {25: 3, 26: 19})
    first = FakeConsumer({TP: log[TP][:20]}, chunk=10)
    await run_until_drained(sink(first, LocalStore(tmp_path), 10), first)

    # A new owner (another instance, or this one after a restart): the copies' originals are in committed batches.
    second = FakeConsumer(log, committed_offsets=dict(first.committed_offsets), chunk=4)
    other = sink(second, LocalStore(tmp_path), 4)
    await other.on_assigned({TP})
    await run_until_drained(other, second)

    ids = lake_ids(tmp_path)
    assert set(ids) == distinct_ids(log)
    assert max(ids.values()) == 1
    assert other.copies_dropped == 2


@pytest.mark.parametrize("fail_on_put", [1, 2, 3, 4])
async def test_caida_a_mitad_de_flush_no_pierde_ni_duplica_eventos(tmp_path, fail_on_put):
    # Batches of 10 records; copies in later batches of originals in earlier ones, one of them in the batch
    # the crash leaves uncommitted (its files removed: its ids must not stay in the window).
    log = with_copies(30, {30: 5, 31: 15, 32: 25, 35: 31})
    consumer = FakeConsumer(log, chunk=10)
    crashing = LakeSink(
        consumer,
        FailingStore(tmp_path, fail_on_put),
        NoCatalog(),
        FlushPolicy(10, 60),
        group_id=GROUP,  # type: ignore[arg-type]
    )
    with pytest.raises(OSError, match="mid-flush"):
        await run_until_drained(crashing, consumer)

    restarted = FakeConsumer(log, committed_offsets=dict(consumer.committed_offsets), chunk=3)
    again = sink(restarted, LocalStore(tmp_path), 3)
    await again.on_assigned({TP})
    await run_until_drained(again, restarted)

    ids = lake_ids(tmp_path)
    assert set(ids) == distinct_ids(log)
    assert max(ids.values()) == 1


async def test_revocacion_y_nuevo_dueno_comparten_la_ventana(tmp_path):
    log = with_copies(12, {14: 11})
    store = LocalStore(tmp_path)
    first = FakeConsumer({TP: log[TP][:12]}, chunk=12)
    owner = sink(first, store, 1000)  # nothing flushed by size: the revocation flushes
    stop = asyncio.Event()
    task = asyncio.create_task(owner.run(stop))

    async def drained() -> bool:
        return first.drained()

    await eventually(drained, timeout=10, interval=0.001, what="the first owner to read everything")
    await owner.on_revoked({TP})
    stop.set()
    await task

    second = FakeConsumer(log, committed_offsets=dict(first.committed_offsets), chunk=2)
    new_owner = sink(second, store, 2)
    await new_owner.on_assigned({TP})
    await run_until_drained(new_owner, second)

    ids = lake_ids(tmp_path)
    assert set(ids) == distinct_ids(log)
    assert max(ids.values()) == 1


async def test_sin_ventana_la_copia_se_escribiria_dos_veces(tmp_path):
    """Why the window exists: without it a copy in a later batch is a second row."""
    log = with_copies(10, {12: 1})
    consumer = FakeConsumer(log, chunk=5)
    await run_until_drained(sink(consumer, LocalStore(tmp_path), 5, window=0), consumer)
    assert lake_ids(tmp_path)[dict(log[TP][1].headers)["ce_id"].decode()] == 2
