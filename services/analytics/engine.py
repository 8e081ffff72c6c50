"""The one interface both query engines implement (DuckDB over Parquet, Athena over Glue + S3)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    elapsed_ms: int
    truncated: bool = False  # rows were left out to keep the answer under the byte limit


class Engine(Protocol):
    """`dialect` names the sqlglot dialect of the SQL the engine runs; queries are written once in DuckDB's
    dialect and transpiled when it differs. `query` runs our own SQL, `custom_query` a caller's (checked)
    SQL apart from it, bounded in time, memory and `max_bytes` of answer. Both raise QueryRefused (the SQL is
    wrong), QueryTooLarge, QueryTimeout, or LakeUnavailable."""

    dialect: str

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def query(self, sql: str, *, timeout: float) -> QueryResult: ...
    async def custom_query(self, sql: str, *, timeout: float, max_bytes: int) -> QueryResult: ...
    async def ping(self) -> None: ...


def value_bytes(value: Any) -> int:
    """About how many bytes the value takes in the JSON answer (strings by length, scalars ~ their digits)."""
    if isinstance(value, str | bytes):
        return len(value) + 2
    if isinstance(value, dict):
        return sum(len(str(k)) + value_bytes(v) + 4 for k, v in value.items()) + 2
    if isinstance(value, list | tuple):
        return sum(value_bytes(v) + 1 for v in value) + 2
    if isinstance(value, datetime | date | time | Decimal):
        return 34
    return 24


def within_bytes(
    rows: Iterable[tuple[Any, ...]], max_bytes: int, used: int = 0
) -> tuple[list[tuple[Any, ...]], int, bool]:
    """The leading rows that fit in `max_bytes` (counting `used` already taken), the bytes now used, and
    whether a row was left out."""
    kept: list[tuple[Any, ...]] = []
    for row in rows:
        used += sum(value_bytes(v) for v in row) + 2
        if used > max_bytes:
            return kept, used, True
        kept.append(row)
    return kept, used, False
