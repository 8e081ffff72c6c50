"""The sink's exactly-once argument, exercised with a fake consumer and a real folder: crash mid-flush,
restart with different batch boundaries (a subset of the lost batch), every offset lands in one file."""

import asyncio
import json
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from aiokafka import TopicPartition

from contracts.lake import TABLES
from streams.lake.batch import FlushPolicy
from streams.lake.catalog import NoCatalog
from streams.lake.sink import LakeSink, manifest_path
from streams.lake.storage import LocalStore
from tests.unit.lake.fakes import FailingStore, FakeConsumer, Record, record

TOPIC = "bank.cuentas.v1"
GROUP = "lake.sink"


def kafka_log(partitions: int = 2, per_partition: int = 60) -> dict[TopicPartition, list[Record]]:
    return {
        TopicPartition(TOPIC, p): [record(TOPIC, p, o, n=o * 7 + p) for o in range(per_partition)]
        for p in range(partitions)
    }


def lake_positions(root: Path) -> list[tuple[int, int]]:
    """(partition, offset) of every row in every table."""
    found = []
    for table in TABLES:
        files = sorted((root / table).glob("dt=*/*.parquet"))
        if files:
            data = ds.dataset([str(f) for f in files]).to_table(columns=["kafka_partition", "kafka_offset"])
            found += list(zip(data["kafka_partition"].to_pylist(), data["kafka_offset"].to_pylist(), strict=True))
    return found


async def run_until_drained(sink: LakeSink, consumer: FakeConsumer) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(sink.run(stop))
    while not consumer.drained():
        await asyncio.sleep(0.001)
        if task.done():
            task.result()
    stop.set()
    await task


async def test_confirma_offset_solo_despues_de_escribir_los_archivos(tmp_path):
    log = kafka_log(partitions=1, per_partition=20)
    consumer = FakeConsumer(log, chunk=20)
    sink = LakeSink(consumer, LocalStore(tmp_path), NoCatalog(), FlushPolicy(20, 60), group_id=GROUP)  # type: ignore[arg-type]

    await run_until_drained(sink, consumer)

    assert consumer.committed_offsets == {TopicPartition(TOPIC, 0): 20}
    assert sorted(lake_positions(tmp_path)) == [(0, o) for o in range(20)]
    manifest = json.loads((tmp_path / manifest_path(GROUP, TOPIC, 0)).read_text())
    assert manifest["first_offset"] == 0
    assert manifest["last_offset"] == 19
    assert all((tmp_path / p).exists() for p in manifest["paths"])


async def test_parada_ordenada_vacia_el_buffer_y_confirma(tmp_path):
    consumer = FakeConsumer(kafka_log(partitions=2, per_partition=5))
    sink = LakeSink(consumer, LocalStore(tmp_path), NoCatalog(), FlushPolicy(1000, 3600), group_id=GROUP)  # type: ignore[arg-type]

    await run_until_drained(sink, consumer)

    assert set(consumer.committed_offsets.values()) == {5}
    assert len(lake_positions(tmp_path)) == 10


@pytest.mark.parametrize("redo", [5, 13])
@pytest.mark.parametrize("fail_on_put", [1, 2, 3, 5])
async def test_caida_a_mitad_de_flush_y_reproceso_con_lotes_menores_deja_cada_evento_una_vez(
    tmp_path, fail_on_put, redo
):
    log = kafka_log(partitions=2, per_partition=60)
    consumer = FakeConsumer(log, chunk=40)
    # First life: batches of 40; the store dies while writing the files of some batch.
    crashing = LakeSink(consumer, FailingStore(tmp_path, fail_on_put), NoCatalog(), FlushPolicy(40, 60), group_id=GROUP)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="mid-flush"):
        await run_until_drained(crashing, consumer)
    written_before = lake_positions(tmp_path)
    committed = dict(consumer.committed_offsets)

    # Second life: a restarted consumer resumes at the committed offsets, with SMALLER batches,
    # so the lost batch is reprocessed as a subset of itself.
    restarted = FakeConsumer(log, committed_offsets=dict(committed), chunk=redo)
    sink = LakeSink(restarted, LocalStore(tmp_path), NoCatalog(), FlushPolicy(redo, 60), group_id=GROUP)  # type: ignore[arg-type]
    await sink.on_assigned(set(log))
    await run_until_drained(sink, restarted)

    positions = lake_positions(tmp_path)
    expected = [(tp.partition, r.offset) for tp, records in log.items() for r in records]
    assert sorted(positions) == sorted(expected), "every offset exactly once"
    # The drill really left uncommitted rows behind (so the cleanup, not luck, made this pass).
    uncommitted = [(p, o) for p, o in written_before if o >= committed.get(TopicPartition(TOPIC, p), 0)]
    if fail_on_put > 1:
        assert uncommitted


async def test_lote_confirmado_no_se_borra_al_reasignar(tmp_path):
    log = kafka_log(partitions=1, per_partition=10)
    consumer = FakeConsumer(log, chunk=10)
    sink = LakeSink(consumer, LocalStore(tmp_path), NoCatalog(), FlushPolicy(10, 60), group_id=GROUP)  # type: ignore[arg-type]
    await run_until_drained(sink, consumer)

    await sink.on_assigned(set(log))

    assert len(lake_positions(tmp_path)) == 10


async def test_sin_la_limpieza_del_manifiesto_un_reproceso_menor_duplicaria(tmp_path, monkeypatch):
    """Why step 4 exists: same-name overwrite alone is not enough when the redo batch is a subset."""
    log = kafka_log(partitions=1, per_partition=60)
    consumer = FakeConsumer(log, chunk=40)
    crashing = LakeSink(consumer, FailingStore(tmp_path, 6), NoCatalog(), FlushPolicy(40, 60), group_id=GROUP)  # type: ignore[arg-type]
    with pytest.raises(OSError):
        await run_until_drained(crashing, consumer)

    restarted = FakeConsumer(log, committed_offsets=dict(consumer.committed_offsets), chunk=3)
    sink = LakeSink(restarted, LocalStore(tmp_path), NoCatalog(), FlushPolicy(3, 60), group_id=GROUP)  # type: ignore[arg-type]
    monkeypatch.setattr(sink, "_ensure_clean", _skip)  # step 4 deliberately disabled
    await run_until_drained(sink, restarted)

    positions = lake_positions(tmp_path)
    assert len(positions) > len(set(positions))


async def _skip(tp: TopicPartition) -> None:
    return None


async def test_la_limpieza_ocurre_antes_del_primer_flush_aunque_el_listener_llegue_tarde(tmp_path):
    """The fetcher can deliver before on_partitions_assigned runs: the first flush cleans up itself,
    and a late listener must not delete the batch this owner just committed."""
    log = kafka_log(partitions=1, per_partition=60)
    consumer = FakeConsumer(log, chunk=40)
    crashing = LakeSink(consumer, FailingStore(tmp_path, 3), NoCatalog(), FlushPolicy(40, 60), group_id=GROUP)  # type: ignore[arg-type]
    with pytest.raises(OSError):
        await run_until_drained(crashing, consumer)

    restarted = FakeConsumer(log, committed_offsets=dict(consumer.committed_offsets), chunk=7)
    sink = LakeSink(restarted, LocalStore(tmp_path), NoCatalog(), FlushPolicy(7, 60), group_id=GROUP)  # type: ignore[arg-type]
    await run_until_drained(sink, restarted)  # no on_assigned before consuming
    await sink.on_assigned(set(log))  # the listener, late

    assert sorted(lake_positions(tmp_path)) == [(0, o) for o in range(60)]
