"""The REST contract of analytics: the original answer shape, typed."""

from typing import Any

from pydantic import BaseModel, Field


class QueryResponse(BaseModel):
    """Every analytics answer; on failure `success` is false, `error` says why, and the HTTP status is real."""

    success: bool
    data: list[dict[str, Any]] = Field(default_factory=list)
    rows_count: int = 0
    execution_time_ms: int = 0
    error: str | None = None
    truncated: bool = Field(False, description="custom queries: more rows existed than the row limit")


class CustomQueryRequest(BaseModel):
    query: str = Field(min_length=1, max_length=20_000, description="one read-only SELECT over the lake views")
    database: str | None = Field(None, description="accepted for compatibility; the lake is the only database")


class QueryInfo(BaseModel):
    name: str
    paths: list[str]
    description: str
    params: dict[str, Any]


class QueriesList(QueryResponse):
    """The original listed names only: kept as `queries` beside the usual shape."""

    total_queries: int
    queries: list[str]
