"""ConsumerLoop commits after the effect, dead-letters poison, retries what may heal, never stalls a partition."""

import asyncio
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from consumers.errors import PermanentError
from consumers.handler import Delivery
from consumers.runner import ConsumerLoop
from contracts.clientes import ClienteEliminado
from contracts.envelope import envelope_for
from tests.unit.foundation.handlers import FunctionHandler

TOPIC = "bank.clientes.v1"
TP = TopicPartition(TOPIC, 0)


def _record(
    offset: int, cliente_id: int = 1, *, poison: bool = False, partition: int = 0
) -> ConsumerRecord[bytes, bytes]:
    env = envelope_for(ClienteEliminado(cliente_id=cliente_id), source="/test")
    headers = [] if poison else env.headers()
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, b"1", env.value(), None, 0, 0, tuple(headers))


class FakeConsumer:
    def __init__(self, batches: list[list[ConsumerRecord[bytes, bytes]]], stop: asyncio.Event) -> None:
        self._batches = batches
        self._stop = stop
        self.commits: list[int] = []

    async def getmany(self, timeout_ms: int = 0) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        if not self._batches:
            self._stop.set()
            return {}
        return {TP: self._batches.pop(0)}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets[TP])

    def assignment(self) -> set[TopicPartition]:
        return {TP}


class FakeProducer:
    def __init__(self) -> None:
        self.sent: dict[str, list[tuple[Any, list[tuple[str, bytes]]]]] = defaultdict(list)

    async def send_and_wait(
        self, topic: str, value: bytes, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        self.sent[topic].append((value, headers or []))


def _loop(
    batches: list[list[ConsumerRecord[bytes, bytes]]], handler: Any, batch_handler: Any = None, **kw: Any
) -> tuple[ConsumerLoop, FakeConsumer, FakeProducer, asyncio.Event]:
    stop = asyncio.Event()
    consumer, producer = FakeConsumer(batches, stop), FakeProducer()
    handlers = FunctionHandler(handler, batch_handler)
    loop = ConsumerLoop(consumer, producer, group_id="g", handler=handlers, retry_backoff=0, **kw)  # type: ignore[arg-type]
    return loop, consumer, producer, stop


async def test_commit_despues_del_efecto() -> None:
    seen: list[int] = []

    async def handler(d: Delivery) -> None:
        seen.append(d.offset)

    loop, consumer, _, stop = _loop([[_record(0), _record(1)], [_record(2)]], handler, commit_interval=0)
    await loop.run(stop)
    assert seen == [0, 1, 2]
    assert consumer.commits == [2, 3]


async def test_las_confirmaciones_de_varias_lecturas_van_juntas_y_al_quedar_ocioso() -> None:
    loop, consumer, _, stop = _loop([[_record(0), _record(1)], [_record(2)], [_record(3)]], lambda d: asyncio.sleep(0))
    await loop.run(stop)
    assert consumer.commits == [4]  # within the interval: one commit, made when a poll came back empty


async def test_confirma_al_cumplirse_el_intervalo_aunque_no_pare_de_llegar() -> None:
    async def slow(d: Delivery) -> None:
        await asyncio.sleep(0.03)

    polls = [[_record(i)] for i in range(6)]
    loop, consumer, _, stop = _loop(polls, slow, commit_interval=0.05)
    await loop.run(stop)
    assert 2 <= len(consumer.commits) < 6, consumer.commits
    assert consumer.commits == sorted(consumer.commits)
    assert consumer.commits[-1] == 6


async def test_no_confirma_particiones_que_un_reparto_se_llevo() -> None:
    stop = asyncio.Event()
    tp1 = TopicPartition(TOPIC, 1)
    consumer = _Polls([{TP: [_record(0)], tp1: [_record(5, partition=1)]}, {TP: [_record(1)]}], stop)

    async def handler(d: Delivery) -> None:
        if d.offset == 1:
            consumer.assigned = {TP}  # a rebalance gave partition 1 to another member meanwhile

    loop = ConsumerLoop(consumer, FakeProducer(), group_id="g", handler=FunctionHandler(handler))  # type: ignore[arg-type]
    await loop.run(stop)
    assert consumer.commits == [{TP: 2}]


async def test_al_parar_confirma_lo_ya_aplicado() -> None:
    stop = asyncio.Event()

    async def handler(d: Delivery) -> None:
        stop.set()  # the worker is told to stop right after this record's effect

    consumer = FakeConsumer([[_record(0)], [_record(1)]], stop)
    loop = ConsumerLoop(consumer, FakeProducer(), group_id="g", handler=FunctionHandler(handler))  # type: ignore[arg-type]
    await loop.run(stop)
    assert consumer.commits == [1]


async def test_un_mensaje_sin_envelope_va_al_dlq_y_la_particion_sigue() -> None:
    seen: list[int] = []

    async def handler(d: Delivery) -> None:
        seen.append(d.offset)

    loop, consumer, producer, stop = _loop([[_record(0), _record(1, poison=True), _record(2)]], handler)
    await loop.run(stop)
    assert seen == [0, 2]
    [(_, headers)] = producer.sent[f"{TOPIC}.dlq"]
    assert dict(headers)["dlq_original_offset"] == b"1"
    assert dict(headers)["dlq_error_type"] == b"EnvelopeError"
    assert consumer.commits == [3]


async def test_un_error_permanente_no_se_reintenta() -> None:
    calls = 0

    async def handler(d: Delivery) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("no such account")

    loop, _, producer, stop = _loop([[_record(0)]], handler)
    await loop.run(stop)
    assert calls == 1
    assert len(producer.sent[f"{TOPIC}.dlq"]) == 1


async def test_un_error_desconocido_se_reintenta_y_luego_va_al_dlq() -> None:
    calls = 0

    async def handler(d: Delivery) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("bug")

    loop, consumer, producer, stop = _loop([[_record(0), _record(1)]], handler, max_attempts=3)
    await loop.run(stop)
    assert calls == 6
    assert len(producer.sent[f"{TOPIC}.dlq"]) == 2
    assert consumer.commits == [2]


async def test_una_caida_de_infraestructura_se_reintenta_hasta_que_sana() -> None:
    calls = 0

    async def handler(d: Delivery) -> None:
        nonlocal calls
        calls += 1
        if calls < 8:  # more than max_attempts: infrastructure errors are never dead-lettered
            raise ConnectionRefusedError("db restarting")

    loop, _, producer, stop = _loop([[_record(0)]], handler, max_attempts=3)
    await loop.run(stop)
    assert calls == 8
    assert not producer.sent


async def test_un_lote_que_falla_se_procesa_uno_a_uno() -> None:
    applied: list[int] = []

    async def batch(ds: Any) -> None:
        raise ValueError("one bad apple")

    async def handler(d: Delivery) -> None:
        if d.offset == 1:
            raise PermanentError("bad")
        applied.append(d.offset)

    loop, consumer, producer, stop = _loop([[_record(0), _record(1), _record(2)]], handler, batch_handler=batch)
    await loop.run(stop)
    assert applied == [0, 2]
    assert len(producer.sent[f"{TOPIC}.dlq"]) == 1
    assert consumer.commits == [3]


@pytest.mark.parametrize("n", [1, 5])
async def test_el_lote_exitoso_no_toca_el_manejador_individual(n: int) -> None:
    batches: list[int] = []

    async def batch(ds: Any) -> None:
        batches.append(len(ds))

    async def handler(d: Delivery) -> None:
        batches.append(-1)

    loop, _, _, stop = _loop([[_record(i) for i in range(n)]], handler, batch_handler=batch)
    await loop.run(stop)
    assert batches == ([n] if n > 1 else [-1])
    assert Decimal(loop.handled) == n


class _Polls:
    """A consumer whose polls are scripted per partition; records every commit."""

    def __init__(self, polls: list[dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]], stop: asyncio.Event):
        self._polls = polls
        self._stop = stop
        self.commits: list[dict[TopicPartition, int]] = []
        self.assigned = {tp for poll in polls for tp in poll}

    async def getmany(self, timeout_ms: int = 0) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        if not self._polls:
            self._stop.set()
            return {}
        return self._polls.pop(0)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))

    def assignment(self) -> set[TopicPartition]:
        return self.assigned


async def test_particiones_en_paralelo_cada_una_en_su_orden() -> None:
    stop = asyncio.Event()
    tp1 = TopicPartition(TOPIC, 1)
    consumer = _Polls([{TP: [_record(0), _record(1)], tp1: [_record(5, partition=1)]}], stop)
    second_started = asyncio.Event()
    seen: list[tuple[int, int]] = []

    async def handler(d: Delivery) -> None:
        if d.partition == 0 and d.offset == 0:
            await asyncio.wait_for(second_started.wait(), 1)  # only returns if partition 1 runs meanwhile
        if d.partition == 1:
            second_started.set()
        seen.append((d.partition, d.offset))

    loop = ConsumerLoop(
        consumer, FakeProducer(), group_id="g", handler=FunctionHandler(handler), parallel_partitions=True
    )  # type: ignore[arg-type]
    await loop.run(stop)
    assert seen == [(1, 5), (0, 0), (0, 1)]
    assert consumer.commits == [{TP: 2, tp1: 6}]


async def test_en_paralelo_un_fallo_no_impide_confirmar_las_otras_particiones() -> None:
    stop = asyncio.Event()
    tp1 = TopicPartition(TOPIC, 1)
    consumer = _Polls([{TP: [_record(0)], tp1: [_record(5, partition=1)]}], stop)

    async def handler(d: Delivery) -> None:
        if d.partition == 1:
            raise RuntimeError("boom")

    class BrokerAway(FakeProducer):
        async def send_and_wait(self, *args: Any, **kwargs: Any) -> None:
            raise ConnectionError("broker away")  # so the dead letter cannot be written either

    loop = ConsumerLoop(
        consumer,  # type: ignore[arg-type]
        BrokerAway(),  # type: ignore[arg-type]
        group_id="g",
        handler=FunctionHandler(handler),
        parallel_partitions=True,
        max_attempts=1,
    )
    with pytest.raises(ConnectionError):
        await loop.run(stop)
    assert consumer.commits == [{TP: 1}]


async def test_una_sola_confirmacion_por_lectura_para_todas_sus_particiones() -> None:
    stop = asyncio.Event()
    tp1 = TopicPartition(TOPIC, 1)
    consumer = _Polls([{TP: [_record(0), _record(1)], tp1: [_record(7, partition=1)]}], stop)
    seen: list[int] = []

    async def handler(d: Delivery) -> None:
        seen.append(d.offset)

    loop = ConsumerLoop(consumer, FakeProducer(), group_id="g", handler=FunctionHandler(handler))  # type: ignore[arg-type]
    await loop.run(stop)
    assert seen == [0, 1, 7]
    assert consumer.commits == [{TP: 2, tp1: 8}]


def _whole_poll_loop(
    poll: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]], handler: Any, batch: Any
) -> tuple[ConsumerLoop, _Polls, FakeProducer, asyncio.Event]:
    stop = asyncio.Event()
    consumer, producer = _Polls([poll], stop), FakeProducer()
    loop = ConsumerLoop(
        consumer,  # type: ignore[arg-type]
        producer,  # type: ignore[arg-type]
        group_id="g",
        handler=FunctionHandler(handler, batch),
        whole_poll=True,
        retry_backoff=0,
    )
    return loop, consumer, producer, stop


async def test_con_lectura_entera_las_particiones_van_en_un_solo_lote_cada_una_en_su_orden() -> None:
    tp1 = TopicPartition(TOPIC, 1)
    lotes: list[list[tuple[int, int]]] = []

    async def batch(ds: Any) -> None:
        lotes.append([(d.partition, d.offset) for d in ds])

    async def handler(d: Delivery) -> None:
        raise AssertionError("the whole poll went as one batch")

    poll = {TP: [_record(0), _record(1)], tp1: [_record(5, partition=1), _record(6, partition=1)]}
    loop, consumer, _, stop = _whole_poll_loop(poll, handler, batch)
    await loop.run(stop)
    assert lotes == [[(0, 0), (0, 1), (1, 5), (1, 6)]]
    assert consumer.commits == [{TP: 2, tp1: 7}]
    assert loop.handled == 4


async def test_con_lectura_entera_un_lote_que_falla_vuelve_a_ir_particion_por_particion() -> None:
    tp1 = TopicPartition(TOPIC, 1)
    lotes: list[list[int]] = []
    applied: list[int] = []

    async def batch(ds: Any) -> None:
        offsets = [d.offset for d in ds]
        lotes.append(offsets)
        if 1 in offsets:
            raise ValueError("one bad apple")
        applied.extend(offsets)

    async def handler(d: Delivery) -> None:
        if d.offset == 1:
            raise PermanentError("bad")
        applied.append(d.offset)

    poll = {TP: [_record(0), _record(1)], tp1: [_record(5, partition=1), _record(6, partition=1)]}
    loop, consumer, producer, stop = _whole_poll_loop(poll, handler, batch)
    await loop.run(stop)
    # the poll, then partition 0 (fails: one by one, offset 1 dead-lettered), then partition 1 as a batch
    assert lotes == [[0, 1, 5, 6], [0, 1], [5, 6]]
    assert sorted(applied) == [0, 5, 6]
    assert len(producer.sent[f"{TOPIC}.dlq"]) == 1
    assert consumer.commits == [{TP: 2, tp1: 7}]


async def test_con_lectura_entera_un_registro_ilegible_lo_aparta_la_ruta_por_particion() -> None:
    tp1 = TopicPartition(TOPIC, 1)
    lotes: list[list[int]] = []

    async def batch(ds: Any) -> None:
        lotes.append([d.offset for d in ds])

    async def handler(d: Delivery) -> None:
        lotes.append([d.offset])

    poll = {TP: [_record(0), _record(1, poison=True)], tp1: [_record(5, partition=1), _record(6, partition=1)]}
    loop, consumer, producer, stop = _whole_poll_loop(poll, handler, batch)
    await loop.run(stop)
    assert lotes == [[0], [5, 6]]  # partition 0 is down to one readable record: handled on its own
    assert len(producer.sent[f"{TOPIC}.dlq"]) == 1
    assert consumer.commits == [{TP: 2, tp1: 7}]
