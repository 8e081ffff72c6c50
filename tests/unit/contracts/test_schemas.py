"""Published schemas only change compatibly; a breaking change needs a new version (type name)."""

import json
from typing import Any

import pytest

from contracts import schemas
from contracts.base import Message
from contracts.registry import MESSAGE_TYPES, UPCASTERS, model_for


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
    assert len(doc["components"]["messages"]) == len(MESSAGE_TYPES)


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
