"""Generates the checked-in JSON Schemas and AsyncAPI document, and judges schema compatibility.

Run `python -m contracts.schemas` after changing a model; tests/unit/test_contract_schemas.py fails
when the checked-in files drift or a published type changes incompatibly without a new version.
"""

import json
from pathlib import Path
from typing import Any

from contracts import topics
from contracts.base import Command, Message
from contracts.registry import MESSAGE_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"
ASYNCAPI_FILE = SCHEMA_DIR / "asyncapi.json"


def schema_of(model: type[Message]) -> dict[str, Any]:
    """The payload schema as consumers see it on the wire (serialization mode)."""
    schema = model.model_json_schema(mode="serialization")
    schema["$id"] = model.type
    schema["x-topic"] = model.topic
    schema["x-key"] = model.key_field
    return schema


def file_for(type_name: str) -> Path:
    return SCHEMA_DIR / f"{type_name}.json"


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def asyncapi() -> dict[str, Any]:
    """An AsyncAPI 3.0 document: one channel per topic, one message per type."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in topics.ALL_TOPICS:
        members = [m for m in MESSAGE_TYPES if m.topic == topic]
        channel_id = topic.replace(".", "_")
        channels[channel_id] = {
            "address": topic,
            "description": f"{topics.PARTITIONS[topic]} partitions, key = {members[0].key_field}, "
            "infinite retention; CloudEvents 1.0 binary mode (ce_* headers).",
            "messages": {m.__name__: {"$ref": f"#/components/messages/{m.__name__}"} for m in members},
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    messages = {
        m.__name__: {
            "name": m.type,
            "title": m.__name__,
            "summary": (m.__doc__ or "").strip().splitlines()[0] if m.__doc__ else m.__name__,
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"./{m.type}.json"},
            "tags": [{"name": "command" if issubclass(m, Command) else "event"}],
        }
        for m in MESSAGE_TYPES
    }
    headers_schema: dict[str, Any] = {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"],
        "properties": {
            name: {"type": "string"}
            for name in (
                "ce_specversion",
                "ce_id",
                "ce_source",
                "ce_type",
                "ce_time",
                "ce_subject",
                "content-type",
                "correlation_id",
                "causation_id",
            )
        },
    }
    # The CloudEvents authcontext extension: who caused the event (absent on events no request caused).
    headers_schema["properties"]["ce_authtype"] = {
        "type": "string",
        "description": "authcontext: user, service_account or unauthenticated",
        "examples": ["user"],
    }
    headers_schema["properties"]["ce_authid"] = {
        "type": "string",
        "description": "authcontext: the principal's username (absent when unauthenticated)",
        "examples": ["cajero"],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Cloud Bank events", "version": "1.0.0"},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"CloudEventHeaders": headers_schema}},
    }


def _props(schema: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    return schema.get("properties", {}), set(schema.get("required", []))


def incompatibilities(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why `new` cannot replace `old` under the same type name (empty when it can).

    Allowed: adding optional fields, adding descriptions, adding values to an enum (readers are deployed
    before the producers that start sending a new value). Refused: removing or retyping a field, removing an
    enum value, making an optional field required, adding a required field.
    """
    problems = []
    old_props, old_req = _props(old)
    new_props, new_req = _props(new)
    for name, spec in old_props.items():
        if name not in new_props:
            problems.append(f"field {name!r} removed")
            continue
        strip = {"description", "title", "examples", "default"}
        old_spec = {k: v for k, v in spec.items() if k not in strip}
        new_spec = {k: v for k, v in new_props[name].items() if k not in strip}
        if set(old_spec.get("enum", ())) <= set(new_spec.get("enum", ())):
            old_spec.pop("enum", None)
            new_spec.pop("enum", None)
        if old_spec != new_spec:
            problems.append(f"field {name!r} changed type")
    for name in new_req - old_req:
        problems.append(f"field {name!r} became required" if name in old_props else f"required field {name!r} added")
    if old.get("$defs") and old.get("$defs") != new.get("$defs"):
        for def_name, def_schema in old["$defs"].items():
            problems += [
                f"{def_name}.{p}" for p in incompatibilities(def_schema, new.get("$defs", {}).get(def_name, {}))
            ]
    return problems


def write_all() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for model in MESSAGE_TYPES:
        file_for(model.type).write_text(render(schema_of(model)))
    ASYNCAPI_FILE.write_text(render(asyncapi()))


if __name__ == "__main__":
    write_all()
    print(f"wrote {len(MESSAGE_TYPES)} schemas and {ASYNCAPI_FILE.name} to {SCHEMA_DIR}")
