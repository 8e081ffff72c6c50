"""The lake's published layout: one Parquet table per event type, its typed columns and their Hive/Glue types.

Writers (the lake sink) and readers (analytics, Athena users) share these definitions, so a table always
has the same columns whether it has files yet or not. Columns are derived from the event models: money
becomes decimal128(15,2), datetimes timestamp(us, UTC), dates date32, nested documents list<struct>.
Envelope columns avoid SQL reserved words (`kafka_offset`, not `offset`) so the same SQL runs on DuckDB
and Athena without quoting. Every table is Hive-partitioned by the event's UTC date: `dt=YYYY-MM-DD`.
"""

import re
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel

from contracts.base import DomainEvent
from contracts.registry import MESSAGE_TYPES

MONEY = pa.decimal128(15, 2)
TIMESTAMP = pa.timestamp("us", tz="UTC")
PARTITION_COLUMN = "dt"

ENVELOPE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("event_id", pa.string()),
    pa.field("event_type", pa.string()),
    pa.field("event_time", TIMESTAMP),
    pa.field("kafka_topic", pa.string()),
    pa.field("kafka_partition", pa.int32()),
    pa.field("kafka_offset", pa.int64()),
    pa.field("correlation_id", pa.string()),
    pa.field("causation_id", pa.string()),
    pa.field("source", pa.string()),
    pa.field("subject", pa.string()),
)

# Records that are not a CloudEvent of ours, or whose payload fails its model: kept (never dropped,
# never blocking the partition) with the raw value and the reason, so the lake still holds every record.
REJECTED_TABLE = "eventos_rechazados"
REJECTED_FIELDS: tuple[pa.Field, ...] = (
    pa.field("kafka_timestamp", TIMESTAMP),
    pa.field("raw_key", pa.string()),
    pa.field("raw_value", pa.string()),
    pa.field("headers_json", pa.string()),
    pa.field("error", pa.string()),
)

EVENT_TYPES: tuple[type[DomainEvent], ...] = tuple(m for m in MESSAGE_TYPES if issubclass(m, DomainEvent))


def table_name(model: type[BaseModel]) -> str:
    """`ClienteCreado` -> `cliente_creado` (lower snake case: valid in Glue, DuckDB and Athena unquoted)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


TABLE_OF_TYPE: dict[str, str] = {m.type: table_name(m) for m in EVENT_TYPES}
MODEL_OF_TABLE: dict[str, type[DomainEvent]] = {table_name(m): m for m in EVENT_TYPES}
TABLES: tuple[str, ...] = (*MODEL_OF_TABLE, REJECTED_TABLE)


def _unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def arrow_type(annotation: Any) -> pa.DataType:
    """The Arrow type of a model field annotation (money annotations are Decimal underneath)."""
    annotation = _unwrap_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return arrow_type(typing.get_args(annotation)[0])
    if origin is Literal:
        values = typing.get_args(annotation)
        return pa.string() if all(isinstance(v, str) for v in values) else pa.int64()
    if origin in (tuple, list):
        return pa.list_(arrow_type(typing.get_args(annotation)[0]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct([pa.field(n, arrow_type(f.annotation)) for n, f in annotation.model_fields.items()])
    simple: dict[Any, pa.DataType] = {
        bool: pa.bool_(),
        int: pa.int64(),
        str: pa.string(),
        Decimal: MONEY,
        datetime: TIMESTAMP,
        date: pa.date32(),
        float: pa.float64(),
    }
    if annotation in simple:
        return simple[annotation]
    raise TypeError(f"no lake column type for {annotation!r}")


def payload_fields(model: type[BaseModel]) -> list[pa.Field]:
    return [pa.field(name, arrow_type(f.annotation)) for name, f in model.model_fields.items()]


def arrow_schema(table: str) -> pa.Schema:
    """The columns of `table` as stored in its files (the `dt` partition column lives in the path)."""
    if table == REJECTED_TABLE:
        return pa.schema([*ENVELOPE_FIELDS, *REJECTED_FIELDS])
    return pa.schema([*ENVELOPE_FIELDS, *payload_fields(MODEL_OF_TABLE[table])])


def hive_type(dtype: pa.DataType) -> str:
    """The Glue/Athena (Hive DDL) spelling of an Arrow type."""
    if pa.types.is_decimal(dtype):
        return f"decimal({dtype.precision},{dtype.scale})"
    if pa.types.is_timestamp(dtype):
        return "timestamp"
    if pa.types.is_list(dtype):
        return f"array<{hive_type(dtype.value_type)}>"
    if pa.types.is_struct(dtype):
        inner = ",".join(f"{dtype.field(i).name}:{hive_type(dtype.field(i).type)}" for i in range(dtype.num_fields))
        return f"struct<{inner}>"
    names = {
        pa.string(): "string",
        pa.int64(): "bigint",
        pa.int32(): "int",
        pa.bool_(): "boolean",
        pa.float64(): "double",
        pa.date32(): "date",
    }
    if dtype in names:
        return names[dtype]
    raise TypeError(f"no Hive type for {dtype}")


def hive_columns(table: str) -> list[tuple[str, str]]:
    return [(f.name, hive_type(f.type)) for f in arrow_schema(table)]
