"""Use cases of analytics: run a predefined query or a checked custom query, and type the answer."""

import asyncio
import functools
import math
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from services.analytics.engine import Engine, QueryResult
from services.analytics.errors import LakeUnavailable, QueryInterrupted, QueryRefused, QueryTimeout, TooManyQueries
from services.analytics.queries import BY_NAME, Predefined
from services.analytics.views import QUERYABLE

SOURCE_DIALECT = "duckdb"  # the dialect the predefined queries and views are written in


@dataclass(frozen=True)
class Answer:
    data: list[dict[str, Any]]
    execution_time_ms: int
    truncated: bool = False

    @property
    def rows_count(self) -> int:
        return len(self.data)


def jsonable(value: Any) -> Any:
    """Typed JSON values: money (Decimal) as an exact decimal string, numbers as numbers, times in ISO 8601."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars from the Athena path
        return jsonable(value.item())
    return str(value)


@functools.lru_cache(maxsize=512)
def transpile(sql: str, dialect: str) -> str:
    if dialect == SOURCE_DIALECT:
        return sql
    import sqlglot  # only Athena transpiles; the parser costs 0.5 s of start-up CPU

    return sqlglot.transpile(sql, read=SOURCE_DIALECT, write=dialect)[0]


class AnalyticsService:
    def __init__(
        self,
        engine: Engine,
        *,
        timeout: float,
        custom_max_rows: int,
        max_concurrent: int = 4,
        custom_max_concurrent: int = 2,
        custom_max_bytes: int = 4_000_000,
    ) -> None:
        self._engine = engine
        self._timeout = timeout
        self._max_rows = custom_max_rows
        self._max_bytes = custom_max_bytes
        self._slots = asyncio.Semaphore(max_concurrent)  # 2 cores: queue queries instead of thrashing
        # Custom queries are refused, not queued, when their slots are busy: a queue of heavy queries would
        # only make every caller wait longer (and hold their connections).
        self._custom_slots = custom_max_concurrent
        self._custom_running = 0

    def sql_for(self, query: Predefined, params: dict[str, Any]) -> str:
        return transpile(query.render(params), self._engine.dialect)

    async def predefined(self, name: str, params: dict[str, Any] | None = None) -> Answer:
        query = BY_NAME[name]
        values = {p.name: p.default for p in query.params} | (params or {})
        try:
            result = await self._run(self.sql_for(query, values))
        except QueryRefused as exc:  # our own SQL failing is not the caller's fault
            raise LakeUnavailable(f"query {name} failed: {exc.detail}") from None
        rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        return Answer([jsonable(r) for r in query.shape(rows)], result.elapsed_ms)

    async def custom(self, sql: str) -> Answer:
        from services.analytics.guard import check_query  # sqlglot: loaded on the first custom query, not at start

        checked = check_query(sql, dialect=self._engine.dialect, tables=QUERYABLE, max_rows=self._max_rows)
        if self._custom_running >= self._custom_slots:
            raise TooManyQueries(
                f"{self._custom_slots} custom queries are already running; try again shortly",
                retry_after=max(1, round(self._timeout / 4)),
            )
        self._custom_running += 1
        try:
            result = await self._engine.custom_query(checked, timeout=self._timeout, max_bytes=self._max_bytes)
        except QueryTimeout as exc:
            raise QueryInterrupted(exc.detail) from None
        finally:
            self._custom_running -= 1
        rows = result.rows[: self._max_rows]
        if len(set(result.columns)) != len(result.columns):
            raise QueryRefused("duplicate column names in the result; give each column an alias")
        data = [jsonable(dict(zip(result.columns, row, strict=True))) for row in rows]
        return Answer(data, result.elapsed_ms, truncated=len(result.rows) > self._max_rows or result.truncated)

    async def ping(self) -> None:
        await self._engine.ping()

    async def _run(self, sql: str) -> QueryResult:
        async with self._slots:
            return await self._engine.query(sql, timeout=self._timeout)
