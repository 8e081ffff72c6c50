"""A scripted query engine and a fake awswrangler boundary for the analytics unit tests."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from services.analytics.engine import QueryResult


@dataclass
class FakeEngine:
    """Answers every query with `answer(sql)`; records what it was asked."""

    answer: Callable[[str], QueryResult] = lambda sql: QueryResult(["x"], [(1,)], 3)
    dialect: str = "duckdb"
    queries: list[str] = field(default_factory=list)
    ping_error: Exception | None = None

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def query(self, sql: str, *, timeout: float) -> QueryResult:
        self.queries.append(sql)
        return self.answer(sql)

    async def custom_query(self, sql: str, *, timeout: float, max_bytes: int) -> QueryResult:
        return await self.query(sql, timeout=timeout)

    async def ping(self) -> None:
        if self.ping_error:
            raise self.ping_error


class _FakeAthena:
    def __init__(self, owner: "FakeWrangler") -> None:
        self._o = owner

    def start_query_execution(self, sql: str, **kwargs: Any) -> str:
        self._o.started.append((sql, kwargs))
        return f"q{len(self._o.started)}"

    def get_query_execution(self, query_id: str, boto3_session: Any = None) -> dict[str, Any]:
        sql = self._o.started[int(query_id[1:]) - 1][0]
        state, reason = self._o.state_for(sql)
        return {"Status": {"State": state, "StateChangeReason": reason}}

    def stop_query_execution(self, query_id: str, boto3_session: Any = None) -> None:
        self._o.stopped.append(query_id)

    def get_query_results(self, query_id: str, boto3_session: Any = None) -> pd.DataFrame:
        return self._o.frame


@dataclass
class FakeWrangler:
    """Stands in for the `awswrangler` module at the engine's boundary."""

    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"x": [1]}))
    state_for: Callable[[str], tuple[str, str]] = lambda sql: ("SUCCEEDED", "")
    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.athena = _FakeAthena(self)
