"""Exactly-once per EVENT in the lake: an event an outbox published twice (same CloudEvent, same key, so the copy
follows its original in the same partition) is one row in every lake table. Proved on fresh topics with two sink
instances sharing the partitions (one killed -9 and restarted mid-stream), and on the running stack with
transacciones killed -9 under load, so that its in-document outbox re-publishes what it had not marked yet.
Counted both ways: Kafka records vs distinct event ids vs lake rows; the lake's ids must be Kafka's distinct ids."""

import asyncio
import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import TopicPartition

from contracts.envelope import Envelope, envelope_for
from contracts.topics import TRANSACCIONES
from producers.kafka import make_producer
from tests.conftest import eventually
from tests.integration import stack
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA
from tests.integration.lake.kafka_helpers import lake_contents, sink_env, start_sink
from tests.integration.scaling import (
    Load,
    Offsets,
    committed,
    end_offsets,
    kafka_ids,
    open_accounts,
    program,
    running,
    wait_until,
)
from tests.lake_events import sample_event

ROOT = Path(__file__).resolve().parents[3]
STACK_LAKE = ROOT / ".run" / "lake"
EVENTS = 3000
COPIES = 500


async def publish(envelopes: list[tuple[str, Envelope]]) -> None:
    producer = make_producer(KAFKA, client_id="lake-copies-test")
    await producer.start()
    try:
        futures = [await producer.send(t, e.value(), key=e.key, headers=e.headers()) for t, e in envelopes]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def lake_ids(root: Path, wanted: set[str]) -> Counter[str]:
    """How many rows each wanted event id has, across every lake table."""
    _, ids = lake_contents(root)
    return Counter(i for i in ids if i in wanted)


async def all_committed(group: str, stops: Offsets, timeout: float) -> None:
    async def done() -> bool:
        have = await committed(group)
        return all(have.get(tp, 0) >= end for tp, end in stops.items() if end > 0)

    await eventually(done, timeout=timeout, interval=1.0, what=f"group {group} to commit everything up to {stops}")


def report(what: str, records: int, distinct: int, rows: int) -> None:
    print(f"\n[{what}] Kafka records {records}, distinct event ids {distinct}, lake rows {rows}")


async def test_un_evento_publicado_dos_veces_queda_una_vez_con_dos_sumideros_y_uno_muerto(
    tmp_path: Path, topics: list[str], unique: str
) -> None:
    now = datetime.now(UTC)
    originals = [
        (topics[n % 2], envelope_for(sample_event(n, now - timedelta(days=n % 2)), source="/lake-test"))
        for n in range(EVENTS)
    ]
    # An outbox relay's re-publication: the very same CloudEvent again (same id, key, headers), after the original.
    copies = [originals[n * EVENTS // COPIES] for n in range(COPIES)]
    root = tmp_path / "lake"
    group = f"lake.sink.test.{unique}"
    env = sink_env(topics, root, group, LAKE_FLUSH_RECORDS="150", LAKE_METRICS_PORT="0")
    log_path = tmp_path / "sinks.log"
    with log_path.open("ab") as log:
        sinks = [start_sink(env | {"LAKE_INSTANCE": f"lake-{i}"}, log) for i in (1, 2)]
        try:
            await publish(originals[: EVENTS // 2])
            await publish(copies[: COPIES // 2] + originals[EVENTS // 2 :])

            async def some_written() -> bool:
                return len(lake_contents(root)[1]) > EVENTS // 4

            await eventually(some_written, timeout=120, interval=0.2, what="the sinks to write a part of the topics")
            sinks[0].send_signal(signal.SIGKILL)
            sinks[0].wait(timeout=30)
            await publish(copies[COPIES // 2 :])
            sinks[0] = start_sink(env | {"LAKE_INSTANCE": "lake-1"}, log)

            stops = await end_offsets(tuple(topics))
            await all_committed(group, stops, timeout=180)
        finally:
            for sink in sinks:
                sink.send_signal(signal.SIGTERM)
            for sink in sinks:
                try:
                    sink.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    sink.kill()

    kafka = await kafka_ids({}, stops)
    lake = lake_ids(root, set(kafka.ids))
    report("two sinks, one killed", kafka.records, len(kafka.ids), sum(lake.values()))
    assert kafka.records == EVENTS + COPIES
    assert len(kafka.ids) == EVENTS
    assert set(lake) == set(kafka.ids), "every event in the lake"
    assert [i for i, n in lake.items() if n > 1] == [], "no event twice"
    assert sum(lake.values()) == EVENTS


async def republish(starts: Offsets, stops: Offsets, topic: str, every: int) -> int:
    """Re-send every `every`-th record of `topic` in the range verbatim, to its own partition: exactly what a
    relay that died before marking does. Returns how many."""
    from consumers.reader import make_reader, read_range

    reader = make_reader(KAFKA)
    await reader.start()
    chosen = []
    try:
        tps = {tp: end for tp, end in stops.items() if tp.topic == topic}
        async for record in read_range(reader, {tp: starts.get(tp, 0) for tp in tps}, tps):
            if (record.offset - starts.get(TopicPartition(record.topic, record.partition), 0)) % every == 0:
                chosen.append(record)
    finally:
        await reader.stop()
    producer = make_producer(KAFKA, client_id="relay-copy-test")
    await producer.start()
    try:
        for r in chosen:
            await producer.send_and_wait(r.topic, r.value, key=r.key, headers=list(r.headers), partition=r.partition)
    finally:
        await producer.stop()
    return len(chosen)


async def test_transacciones_muerto_a_mitad_del_relay_no_deja_eventos_dobles_en_el_lago() -> None:
    cuentas = await open_accounts(3)
    starts = await end_offsets()
    victim = program("transacciones")
    async with httpx.AsyncClient(auth=Bearer(), timeout=60) as http:
        load = Load(http, cuentas)
        async with running(load):
            await asyncio.sleep(10)  # the relay publishing steadily
            stack.kill9(victim)

            async def answering() -> bool:
                try:
                    return (await http.get("http://127.0.0.1:8004/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await asyncio.sleep(0.5)
            back = await wait_until(answering, timeout=120)
            assert back is not None, f"{victim} did not come back"
            print(f"\n[transacciones kill -9] {victim} answering /health again {back + 0.5:.1f} s after the kill")
            await asyncio.sleep(8)  # load on the restarted instance too
        await load.wait_final()
        print(f"[transacciones kill -9] {len(load.posted)} transactions, {load.failures} POST attempts retried")
    # Copies the kill may or may not have caused: add some that are certain, so the dedupe is always exercised.
    relay_stops = await end_offsets()
    injected = await republish(starts, relay_stops, TRANSACCIONES, every=7)
    stops = await end_offsets()
    await all_committed("lake.sink", stops, timeout=240)

    kafka = await kafka_ids(starts, stops)
    lake = lake_ids(STACK_LAKE, set(kafka.ids))
    report("transacciones killed mid-relay", kafka.records, len(kafka.ids), sum(lake.values()))
    print(f"[transacciones kill -9] copies in Kafka: {kafka.copies} ({injected} injected, the rest by the relay)")
    assert kafka.copies >= injected > 0
    assert set(lake) == set(kafka.ids), f"missing from the lake: {sorted(set(kafka.ids) - set(lake))[:10]}"
    assert [i for i, n in lake.items() if n > 1] == [], "an event twice in the lake"
