"""A CloudEvent produced and consumed through the real broker keeps its headers and payload."""

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from aiokafka import AIOKafkaProducer

from contracts.cuentas import SaldoActualizado
from contracts.envelope import envelope_for, from_record
from producers.kafka import publish
from tests.integration.foundation.conftest import drain


async def test_un_cloudevent_cruza_kafka_intacto(fresh_topic: str, producer: AIOKafkaProducer) -> None:
    event = SaldoActualizado(
        cuenta_id=42,
        cliente_id=7,
        numero_cuenta="0000000000424",
        movimiento_id=1,
        operacion="CREDITO",
        causa="DEPOSITO",
        monto=Decimal("1500.00"),
        saldo=Decimal("1500.00"),
        moneda="PEN",
        fecha=datetime.now(UTC),
    )
    env = dataclasses.replace(envelope_for(event, source="/cuentas", causation_id="cmd-1"), topic=fresh_topic)
    await publish(producer, env)

    [(value, headers)] = await drain(fresh_topic, 1)
    back = from_record(fresh_topic, value, list(headers.items()))
    assert headers["ce_specversion"] == b"1.0"
    assert (back.id, back.type, back.source, back.subject) == (env.id, env.type, "/cuentas", "42")
    assert (back.correlation_id, back.causation_id) == (env.id, "cmd-1")
    assert back.time == env.time
    assert back.decode() == event
