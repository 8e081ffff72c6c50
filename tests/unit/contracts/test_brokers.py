"""KAFKA_BROKERS decides the bootstrap servers and the topics' replication in one place (contracts/brokers.py)."""

import pytest

from bank.topics_cmd import wanted
from contracts import brokers


def test_sin_variable_es_un_broker_con_replicacion_1() -> None:
    assert brokers.broker_count({}) == 1
    assert brokers.broker_count({"KAFKA_BROKERS": ""}) == 1
    assert brokers.bootstrap_servers({}) == "127.0.0.1:9092"
    assert brokers.replication({}) == brokers.Replication(factor=1, min_insync=1)


def test_tres_brokers_listan_los_tres_y_replican_3_con_min_isr_2() -> None:
    env = {"KAFKA_BROKERS": "3"}
    assert brokers.bootstrap_servers(env) == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
    assert brokers.replication(env) == brokers.Replication(factor=3, min_insync=2)


@pytest.mark.parametrize("value", ["2", "0", "tres", "-1"])
def test_otro_numero_de_brokers_se_rechaza(value: str) -> None:
    with pytest.raises(ValueError, match="KAFKA_BROKERS must be 1 or 3"):
        brokers.broker_count({"KAFKA_BROKERS": value})


@pytest.mark.parametrize(("count", "factor", "min_isr"), [("1", 1, "1"), ("3", 3, "2")])
def test_bank_topics_create_pide_la_replicacion_del_modo(
    monkeypatch: pytest.MonkeyPatch, count: str, factor: int, min_isr: str
) -> None:
    monkeypatch.setenv("KAFKA_BROKERS", count)
    topics = wanted()
    assert topics
    for topic in topics:
        assert topic.replication_factor == factor, topic.name
        assert topic.topic_configs["min.insync.replicas"] == min_isr, topic.name
        assert topic.topic_configs["retention.ms"] == "-1", topic.name
