"""Turns one consumed Kafka record into a typed lake row: which table, which date partition, which values."""

import functools
import json
import types
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from consumers.record import KafkaRecord
from contracts.envelope import (
    CAUSATION_HEADER,
    CORRELATION_HEADER,
    LEGACY_CAUSATION_HEADER,
    LEGACY_CORRELATION_HEADER,
    from_record,
)
from contracts.lake import REJECTED_TABLE, TABLE_OF_TYPE

# Values stored as they are: everything else (sequences, nested models) is converted by _plain.
_SCALARS = (str, int, float, bool, Decimal, datetime, date, type(None))


@dataclass(frozen=True)
class LakeRow:
    """One record as it will be stored: `values` match contracts.lake.arrow_schema(table)."""

    table: str
    dt: str
    offset: int
    values: dict[str, Any]

    @property
    def event_id(self) -> str | None:
        """The CloudEvent id (None for a record too broken to carry one): what the lake is exactly-once about."""
        value = self.values.get("event_id")
        return None if value is None else str(value)


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode(errors="replace")


def to_row(record: KafkaRecord) -> LakeRow:
    """Never raises for bad data: what cannot be typed goes to the rejected table with the reason."""
    position = {"kafka_topic": record.topic, "kafka_partition": record.partition, "kafka_offset": record.offset}
    headers = list(record.headers or ())
    try:
        envelope = from_record(record.topic, record.value, headers)
        message = envelope.decode()  # validated and upcast to the current model of its type
        table = TABLE_OF_TYPE[message.type]
    except Exception as exc:
        return _rejected(record, position, headers, exc)
    event_time = envelope.time.astimezone(UTC) if envelope.time.tzinfo else envelope.time.replace(tzinfo=UTC)
    values = {
        "event_id": envelope.id,
        "event_type": envelope.type,  # the type as published, even when upcast to a newer model
        "event_time": event_time,
        **position,
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "source": envelope.source,
        "subject": envelope.subject,
        **_plain(message),
    }
    return LakeRow(table=table, dt=event_time.date().isoformat(), offset=record.offset, values=values)


def _plain(model: BaseModel) -> dict[str, Any]:
    """Field values as Python objects; not model_dump, whose money serializer would turn Decimals into str.
    Only the fields that may hold sequences or nested models are converted; the scalars are taken as they are."""
    values = dict(model.__dict__)
    for name in _nested_fields(type(model)):
        value = values[name]
        if isinstance(value, tuple | list):
            values[name] = [_plain(v) if isinstance(v, BaseModel) else v for v in value]
        elif isinstance(value, BaseModel):
            values[name] = _plain(value)
    return values


@functools.cache
def _nested_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` whose type is not a plain scalar. Once per model class: this runs for every event the
    lake stores, and checking each value of each event was a fifth of turning a record into a row."""
    return tuple(name for name, info in model.model_fields.items() if not _scalar(info.annotation))


def _scalar(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Literal:
        return True
    if origin is Union or origin is types.UnionType:
        return all(_scalar(a) for a in get_args(annotation))
    if origin is Annotated:
        return _scalar(get_args(annotation)[0])
    return (
        isinstance(annotation, type)
        and issubclass(annotation, _SCALARS)
        and not issubclass(annotation, BaseModel | tuple | list)
    )


def _rejected(record: KafkaRecord, position: dict[str, Any], headers: list[Any], exc: Exception) -> LakeRow:
    when = datetime.fromtimestamp(record.timestamp / 1000, UTC) if record.timestamp else datetime.now(UTC)
    by_name = {k: _text(v) for k, v in headers}
    values = {
        "event_id": by_name.get("ce_id"),
        "event_type": by_name.get("ce_type"),
        "event_time": None,
        **position,
        "correlation_id": by_name.get(CORRELATION_HEADER, by_name.get(LEGACY_CORRELATION_HEADER)),
        "causation_id": by_name.get(CAUSATION_HEADER, by_name.get(LEGACY_CAUSATION_HEADER)),
        "source": by_name.get("ce_source"),
        "subject": by_name.get("ce_subject"),
        "kafka_timestamp": when,
        "raw_key": _text(record.key),
        "raw_value": _text(record.value),
        "headers_json": json.dumps(by_name, ensure_ascii=False),
        "error": f"{type(exc).__name__}: {exc}"[:2000],
    }
    return LakeRow(table=REJECTED_TABLE, dt=when.date().isoformat(), offset=record.offset, values=values)
