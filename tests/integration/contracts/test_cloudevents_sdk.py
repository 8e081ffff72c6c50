"""Every topic read as another team would: the official CloudEvents SDK parses each record, finds its correlation
and causation as attributes, and the payload validates against the checked-in JSON Schema its dataschema names."""

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka.structs import ConsumerRecord
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft202012Validator

from consumers.reader import make_reader, read_range, topic_partitions
from contracts import topics
from contracts.registry import schema_uri
from contracts.schemas import SCHEMA_DIR
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA, POISON_MARK, URLS
from tests.integration.transacciones.conftest import Banco

# The published schemas by their `$id`: what a reader resolves an event's dataschema to.
VALIDATORS = {
    schema["$id"]: Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for schema in (json.loads(p.read_text()) for p in sorted(SCHEMA_DIR.glob("bank.*.json")))
}


async def read_topic(topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic` from its beginning to its current end, without a consumer group."""
    consumer = make_reader(KAFKA, client_id="sdk-contract-test")
    await consumer.start()
    try:
        tps = await topic_partitions(consumer, topic)
        starts = await consumer.beginning_offsets(tps)
        stops = await consumer.end_offsets(tps)
        # Junk another test wrote on purpose (cuentas' DLQ test) is not a record of ours: left out.
        return [r async for r in read_range(consumer, starts, stops) if POISON_MARK not in r.headers]
    finally:
        await consumer.stop()


def with_sdk(record: ConsumerRecord[bytes, bytes]) -> BaseCloudEvent:
    message = KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value or b"")
    return from_binary(message, JSONFormat())


def payload(event: BaseCloudEvent) -> dict[str, Any]:
    data = event.get_data()
    assert isinstance(data, dict), f"{event.get_id()}: the payload is not a JSON object"
    return data


@pytest.fixture(scope="module")
async def banco() -> AsyncIterator[Banco]:
    async with (
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["clientes"], timeout=20) as clientes,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["cuentas"], timeout=20) as cuentas,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["transacciones"], timeout=20) as trx,
    ):
        yield Banco(clientes, cuentas, trx)


@pytest.fixture(scope="module")
async def una_transferencia(banco: Banco) -> dict[str, str]:
    """A transfer between two fresh accounts: events on every domain topic. Returns the subject of ours per topic."""
    cliente = await banco.nuevo_cliente()
    origen = await banco.abrir_cuenta(cliente, "100.00")
    destino = await banco.abrir_cuenta(cliente)
    body = {"tipo": "TRANSFERENCIA", "monto": "12.50", "moneda": "PEN", "cuentaOrigenId": origen}
    trx = await banco.final({**body, "cuentaDestinoId": destino}, key=str(uuid.uuid4()))
    assert trx["estado"] == "COMPLETADA", trx
    return {
        topics.CLIENTES: str(cliente),
        topics.CUENTAS: str(origen),
        topics.CUENTAS_COMANDOS: str(origen),
        topics.TRANSACCIONES: str(trx["transaccionId"]),
    }


@pytest.mark.parametrize("topic", topics.ALL_TOPICS)
async def test_el_sdk_oficial_lee_cada_evento_y_su_payload_cumple_su_dataschema(
    topic: str, una_transferencia: dict[str, str]
) -> None:
    ours = una_transferencia[topic]

    async def records_with_ours() -> list[ConsumerRecord[bytes, bytes]] | None:
        records = await read_topic(topic)  # the outbox relay publishes a moment after the API answered
        return records if any(r.key == ours.encode() for r in records) else None

    records = await eventually(records_with_ours, timeout=60, interval=0.5, what=f"events of {ours} on {topic}")
    problems: list[str] = []
    for record in records:
        event = with_sdk(record)
        at = f"{topic}@{record.partition}:{record.offset} {event.get_type()}"
        # Records older than the dataschema attribute (the log keeps them forever) are found by their type.
        dataschema = event.get_dataschema() or schema_uri(event.get_type())
        data: Any = event.get_data()
        errors = [e.message for e in VALIDATORS[dataschema].iter_errors(data)] if dataschema in VALIDATORS else []
        if dataschema not in VALIDATORS:
            problems.append(f"{at}: no published schema with $id {dataschema}")
        problems += [f"{at}: {e}" for e in errors]
        if record.key == ours.encode():
            # What this version writes: every attribute an SDK needs, under the names the audit export uses.
            assert event.get_dataschema() == schema_uri(event.get_type()), at
            assert event.get_extension("correlationid"), at
            assert event.get_subject() == ours, at
    assert not problems, "\n".join(problems[:20])


async def test_la_causalidad_enlaza_la_respuesta_de_cuentas_con_el_comando_del_saga(
    una_transferencia: dict[str, str],
) -> None:
    trx_id = una_transferencia[topics.TRANSACCIONES]
    comandos = [with_sdk(r) for r in await read_topic(topics.CUENTAS_COMANDOS)]
    debito = next(
        e for e in comandos if e.get_type().endswith("DebitarCuenta.v1") and payload(e)["transaccion_id"] == trx_id
    )

    async def respuesta() -> BaseCloudEvent | None:
        saldos = [with_sdk(r) for r in await read_topic(topics.CUENTAS)]
        return next((e for e in saldos if e.get_extension("causationid") == debito.get_id()), None)

    saldo = await eventually(respuesta, timeout=60, interval=0.5, what=f"the reply to command {debito.get_id()}")
    assert saldo.get_type() == "bank.cuentas.SaldoActualizado.v1"
    assert saldo.get_extension("correlationid") == debito.get_extension("correlationid")
