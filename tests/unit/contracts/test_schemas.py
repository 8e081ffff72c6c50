"""Published schemas only change compatibly; a breaking change needs a new version (type name)."""

import json
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

import pytest
from jsonschema import Draft202012Validator

from consumers.dlq import dead_letter_headers
from contracts import schemas, topics
from contracts.base import Message
from contracts.registry import MESSAGE_TYPES, UPCASTERS, model_for, schema_uri


@pytest.mark.parametrize("model", MESSAGE_TYPES, ids=lambda m: m.type)
def test_el_esquema_publicado_sigue_siendo_compatible(model: type[Message]) -> None:
    published = json.loads(schemas.file_for(model.type).read_text())
    problems = schemas.incompatibilities(published, schemas.schema_of(model))
    assert not problems, f"{model.type} changed incompatibly ({problems}): publish it as a new version"


@pytest.mark.parametrize("model", MESSAGE_TYPES, ids=lambda m: m.type)
def test_los_esquemas_del_repositorio_estan_al_dia(model: type[Message]) -> None:
    committed = schemas.file_for(model.type).read_text()
    assert committed == schemas.render(schemas.schema_of(model)), "run `python -m contracts.schemas`"


def test_asyncapi_al_dia_y_con_todos_los_topics() -> None:
    doc = json.loads(schemas.ASYNCAPI_FILE.read_text())
    assert doc == schemas.asyncapi()
    assert set(doc["components"]["messages"]) == {m.__name__ for m in MESSAGE_TYPES} | {"DeadLetter"}


def test_asyncapi_declara_servidores_bindings_y_un_canal_dlq_por_topic() -> None:
    doc = schemas.asyncapi()
    assert {"local", "production"} <= set(doc["servers"])
    assert doc["servers"]["local"] == {**doc["servers"]["local"], "host": "127.0.0.1:9092", "protocol": "kafka"}
    by_address = {c["address"]: c for c in doc["channels"].values()}
    for topic in topics.ALL_TOPICS:
        for address, partitions in ((topic, topics.PARTITIONS[topic]), (topics.dlq(topic), topics.DLQ_PARTITIONS)):
            kafka = by_address[address]["bindings"]["kafka"]
            assert (kafka["topic"], kafka["partitions"], kafka["replicas"]) == (address, partitions, 1)
            assert kafka["topicConfiguration"]["retention.ms"] == -1
    for model in MESSAGE_TYPES:
        message = doc["components"]["messages"][model.__name__]
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
    for name, op in doc["operations"].items():
        assert op["channel"]["$ref"].removeprefix("#/channels/") in doc["channels"], name


def test_los_headers_dlq_documentados_son_los_que_escribe_el_consumidor() -> None:
    record = SimpleNamespace(
        topic=topics.CUENTAS, partition=0, offset=1, key=b"1", value=b"{}", headers=(), timestamp=0
    )
    written = {k for k, _ in dead_letter_headers(record, ValueError("x"), "g")}
    documented = schemas.asyncapi()["components"]["schemas"]["DeadLetterHeaders"]["allOf"][1]["required"]
    assert written == set(documented)


@pytest.mark.parametrize("model", MESSAGE_TYPES, ids=lambda m: m.type)
def test_cada_esquema_declara_su_dialecto_y_un_id_uri_que_es_el_dataschema(model: type[Message]) -> None:
    published = json.loads(schemas.file_for(model.type).read_text())
    Draft202012Validator.check_schema(published)
    assert published["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert urlparse(published["$id"]).scheme == "https"
    assert published["$id"] == schema_uri(model.type)


def test_quitar_un_campo_o_volverlo_obligatorio_es_incompatible() -> None:
    old: dict[str, Any] = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    assert schemas.incompatibilities(old, {"properties": {"a": {"type": "string"}}, "required": ["a"]})
    assert schemas.incompatibilities(old, {**old, "required": ["a", "b"]})
    assert schemas.incompatibilities(
        old, {"properties": {**old["properties"], "a": {"type": "integer"}}, "required": ["a"]}
    )


def test_agregar_un_valor_a_un_enum_es_compatible_quitarlo_no() -> None:
    old = {"properties": {"m": {"type": "string", "enum": ["A", "B"]}}, "required": ["m"]}
    new = {"properties": {"m": {"type": "string", "enum": ["A", "B", "C"]}}, "required": ["m"]}
    assert schemas.incompatibilities(old, new) == []
    assert schemas.incompatibilities(new, old) == ["field 'm' changed type"]


def test_agregar_un_campo_opcional_es_compatible() -> None:
    old = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}, "z": {"type": "string", "default": None}}, "required": ["a"]}
    assert schemas.incompatibilities(old, new) == []


def test_los_upcasters_llevan_una_version_vieja_a_la_actual(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        UPCASTERS,
        "bank.clientes.ClienteEliminado.v0",
        ("bank.clientes.ClienteEliminado.v1", lambda d: {"cliente_id": d["id"]}),
    )
    model, data = model_for("bank.clientes.ClienteEliminado.v0", {"id": 5})
    assert model.model_validate(data).key == "5"
