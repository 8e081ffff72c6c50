"""The one interface both query engines implement (DuckDB over Parquet, Athena over Glue + S3)."""

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    elapsed_ms: int


class Engine(Protocol):
    """`dialect` names the sqlglot dialect of the SQL the engine runs; queries are written once in DuckDB's
    dialect and transpiled when it differs. `query` raises QueryRefused (the SQL is wrong), QueryTimeout,
    or LakeUnavailable."""

    dialect: str

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def query(self, sql: str, *, timeout: float) -> QueryResult: ...
    async def ping(self) -> None: ...
