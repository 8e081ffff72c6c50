"""`bank topics list|describe|lag` against the real broker: our topics as created, and a group's lag as it moves."""

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata
from typer.testing import CliRunner

from bank.cli import app
from contracts import brokers, topics
from tests.integration.conftest import KAFKA


def bank(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--bootstrap", KAFKA])
    assert result.exit_code == 0, result.output
    return result.output


# 1 on the single broker, 3 with KAFKA_BROKERS=3 (contracts/brokers.py).
REPLICAS = brokers.replication().factor


def test_list_muestra_cada_topic_nuestro_con_sus_particiones() -> None:
    rows = {line.split()[0]: line.split()[1:] for line in bank("topics", "list").splitlines()[1:]}
    for topic in topics.ALL_TOPICS:
        assert rows[topic][:2] == [str(topics.PARTITIONS[topic]), str(REPLICAS)], topic
        assert rows[topics.dlq(topic)][:2] == [str(topics.DLQ_PARTITIONS), str(REPLICAS)]


def test_describe_muestra_particiones_y_la_retencion_infinita() -> None:
    out = bank("topics", "describe", topics.CUENTAS)
    assert out.startswith(f"{topics.CUENTAS}: {topics.PARTITIONS[topics.CUENTAS]} partitions, replication {REPLICAS}")
    assert "retention.ms=-1" in out
    assert f"min.insync.replicas={brokers.replication().min_insync}" in out
    partitions = [line.split()[0] for line in out.splitlines() if line[:1].isdigit()]
    assert partitions == [str(p) for p in range(topics.PARTITIONS[topics.CUENTAS])]


@pytest.fixture
def topic_con_un_grupo() -> Iterator[tuple[str, str]]:
    """A fresh 1-partition topic with 5 records, and a fresh group that committed offset 2."""
    name, group = f"test.lag.{uuid.uuid4().hex[:10]}", f"test.lag.{uuid.uuid4().hex[:10]}"

    async def setup() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        await admin.create_topics([NewTopic(name, 1, 1)])
        await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
        await producer.start()
        for i in range(5):
            await producer.send_and_wait(name, str(i).encode())
        await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
        await consumer.start()
        consumer.assign([TopicPartition(name, 0)])
        await consumer.commit({TopicPartition(name, 0): OffsetAndMetadata(2, "")})
        await consumer.stop()

    async def teardown() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        await admin.delete_topics([name])
        await admin.close()

    asyncio.run(setup())
    yield name, group
    asyncio.run(teardown())


def test_lag_por_grupo_y_particion(topic_con_un_grupo: tuple[str, str]) -> None:
    name, group = topic_con_un_grupo
    out = bank("topics", "lag", "--group", group)
    assert [group, name, "0", "2", "5", "3"] in [line.split() for line in out.splitlines()]
    assert f"{group}: lag 3" in out
