"""Generates the checked-in JSON Schemas and AsyncAPI document, and judges schema compatibility.

Run `python -m contracts.schemas` after changing a model; tests/unit/test_contract_schemas.py fails
when the checked-in files drift or a published type changes incompatibly without a new version.
"""

import json
from pathlib import Path
from typing import Any

from contracts import brokers, topics
from contracts.base import Command, Message
from contracts.registry import MESSAGE_TYPES, schema_uri

SCHEMA_DIR = Path(__file__).parent / "schemas"
ASYNCAPI_FILE = SCHEMA_DIR / "asyncapi.json"


# The dialect pydantic's JSON Schema generator writes.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Kafka bindings of the AsyncAPI document (asyncapi.com/docs/reference/bindings/kafka).
KAFKA_BINDING_VERSION = "0.5.0"
# What `bank topics create` asks for on the local single broker (`make up`); KAFKA_BROKERS=3 and a production
# cluster run brokers.CLUSTER (3 replicas, min.insync.replicas=2; see `servers`).
LOCAL_REPLICAS = brokers.SINGLE.factor
INFINITE_RETENTION = {"cleanup.policy": ["delete"], "retention.ms": -1, "retention.bytes": -1}

# The headers a consumer adds when it dead-letters a record (consumers/dlq.py), beside the record's own.
DLQ_HEADERS = {
    "dlq_error": "repr() of the error, at most 2000 characters",
    "dlq_error_type": "the error's class name, e.g. ValidationError",
    "dlq_original_topic": "the topic the record was read from",
    "dlq_original_partition": "its partition (decimal text)",
    "dlq_original_offset": "its offset (decimal text)",
    "dlq_consumer_group": "the consumer group (or reader name) that gave up on it",
}


def schema_of(model: type[Message]) -> dict[str, Any]:
    """The payload schema as consumers see it on the wire (serialization mode)."""
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = schema_uri(model.type)
    schema["x-topic"] = model.topic
    schema["x-key"] = model.key_field
    return schema


def file_for(type_name: str) -> Path:
    return SCHEMA_DIR / f"{type_name}.json"


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _servers() -> dict[str, Any]:
    return {
        "local": {
            "host": "127.0.0.1:9092",
            "protocol": "kafka",
            "description": "`make up` and `docker compose up`: one KRaft broker, PLAINTEXT, loopback only.",
        },
        "production": {
            "host": "kafka-1.bank.example:9093",
            "protocol": "kafka-secure",
            "description": "An example cluster: 3 brokers, TLS and SASL/SCRAM, topics with 3 replicas and "
            "min.insync.replicas=2 (list every broker in bootstrap.servers).",
            "security": [{"$ref": "#/components/securitySchemes/scram"}],
        },
    }


def _channel(topic: str, partitions: int, description: str, messages: dict[str, Any]) -> dict[str, Any]:
    binding = {
        "topic": topic,
        "partitions": partitions,
        "replicas": LOCAL_REPLICAS,
        "topicConfiguration": INFINITE_RETENTION,
        "bindingVersion": KAFKA_BINDING_VERSION,
    }
    return {"address": topic, "description": description, "messages": messages, "bindings": {"kafka": binding}}


def _operations(channel_id: str, action: str, summary: str) -> dict[str, Any]:
    """The send operation of `channel_id` and the receive one that any reading application performs."""
    reader_group = {
        "type": "string",
        "description": "one consumer group per reading application; the topic's partitions bound its members",
    }
    ref = {"$ref": f"#/channels/{channel_id}"}
    return {
        f"{action}_{channel_id}": {"action": "send", "channel": ref, "summary": summary},
        f"receive_{channel_id}": {
            "action": "receive",
            "channel": ref,
            "bindings": {"kafka": {"groupId": reader_group, "bindingVersion": KAFKA_BINDING_VERSION}},
        },
    }


def _message(m: type[Message]) -> dict[str, Any]:
    key = {"type": "string", "description": f"the {m.key_field} as decimal text (also ce_subject)"}
    return {
        "name": m.type,
        "title": m.__name__,
        "summary": (m.__doc__ or "").strip().splitlines()[0] if m.__doc__ else m.__name__,
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
        "correlationId": {"$ref": "#/components/correlationIds/correlationid"},
        "payload": {"$ref": f"./{m.type}.json"},
        "tags": [{"name": "command" if issubclass(m, Command) else "event"}],
        "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _headers_schema() -> dict[str, Any]:
    text = {"type": "string"}
    properties: dict[str, Any] = {
        name: text
        for name in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type")
    }
    properties["ce_dataschema"] = {
        "type": "string",
        "format": "uri",
        "description": "dataschema: the `$id` of the payload's JSON Schema (a file beside this document)",
        "examples": [schema_uri("bank.cuentas.SaldoActualizado.v1")],
    }
    properties["ce_correlationid"] = {
        "type": "string",
        "description": "extension correlationid: the id of the event (or request) that started the flow",
    }
    properties["ce_causationid"] = {
        "type": "string",
        "description": "extension causationid: the id of the event this one answers (absent when none)",
    }
    for legacy, attribute in (("correlation_id", "ce_correlationid"), ("causation_id", "ce_causationid")):
        properties[legacy] = {
            "type": "string",
            "deprecated": True,
            "description": f"older records only: what {attribute} carries now (still read, no longer written)",
        }
    # The CloudEvents authcontext extension: who caused the event (absent on events no request caused).
    properties["ce_authtype"] = {
        "type": "string",
        "description": "authcontext: user, service_account or unauthenticated",
        "examples": ["user"],
    }
    properties["ce_authid"] = {
        "type": "string",
        "description": "authcontext: the principal's username (absent when unauthenticated)",
        "examples": ["cajero"],
    }
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"],
        "properties": properties,
    }


def _dead_letter_headers() -> dict[str, Any]:
    return {
        "allOf": [
            {"$ref": "#/components/schemas/CloudEventHeaders"},
            {
                "type": "object",
                "required": sorted(DLQ_HEADERS),
                "properties": {name: {"type": "string", "description": d} for name, d in DLQ_HEADERS.items()},
            },
        ]
    }


def asyncapi() -> dict[str, Any]:
    """An AsyncAPI 3.0 document: one channel per topic and per dead-letter topic, one message per type."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in topics.ALL_TOPICS:
        members = [m for m in MESSAGE_TYPES if m.topic == topic]
        channel_id = topic.replace(".", "_")
        channels[channel_id] = _channel(
            topic,
            topics.PARTITIONS[topic],
            f"key = {members[0].key_field}, infinite retention; CloudEvents 1.0 binary mode (ce_* headers).",
            {m.__name__: {"$ref": f"#/components/messages/{m.__name__}"} for m in members},
        )
        operations |= _operations(channel_id, "publish", f"the owning service's outbox relay publishes to {topic}")
        dlq_id = f"{channel_id}_dlq"
        channels[dlq_id] = _channel(
            topics.dlq(topic),
            topics.DLQ_PARTITIONS,
            f"Records of {topic} a consumer could not process: the original key, value and headers plus the "
            "dlq_* headers saying why and from where (`bank audit` lists them, `bank replay` re-sends them).",
            {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
        )
        operations |= _operations(dlq_id, "deadletter", f"a consumer of {topic} gives up on a record")
    messages = {m.__name__: _message(m) for m in MESSAGE_TYPES}
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "title": "DeadLetter",
        "summary": "A record a consumer gave up on, unchanged, with the dlq_* headers.",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"description": "the original record's value, byte for byte (usually one of the messages above)"},
        "bindings": {"kafka": {"key": {"type": "string"}, "bindingVersion": KAFKA_BINDING_VERSION}},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Cloud Bank events", "version": "1.0.0"},
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {"CloudEventHeaders": _headers_schema(), "DeadLetterHeaders": _dead_letter_headers()},
            "correlationIds": {
                "correlationid": {
                    "description": "the CloudEvents extension correlationid: one id for every message of a flow",
                    "location": "$message.header#/ce_correlationid",
                }
            },
            "securitySchemes": {"scram": {"type": "scramSha512", "description": "the production example's SASL"}},
        },
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
