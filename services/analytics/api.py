"""Routes of analytics: the index, one GET per predefined query path, the query list, the checked custom query."""

import inspect
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.analytics.dependencies import ServiceDep, SettingsDep
from services.analytics.queries import PREDEFINED, Predefined
from services.analytics.schemas import CustomQueryRequest, QueriesList, QueryResponse
from services.analytics.service import AnalyticsService

router = APIRouter()


@router.get("/", tags=["Health"])
async def root(settings: SettingsDep) -> dict[str, Any]:
    return {
        "service": "Cloud Bank analytics",
        "engine": settings.engine,
        "docs": "/docs",
        "queries": "/api/queries/list",
        "timestamp": datetime.now(UTC).isoformat(),
    }


def _tag(path: str) -> str:
    parts = [p for p in path.split("/") if p and p != "api"]
    return parts[0].split("-")[0].capitalize() if parts else "Analytics"


def _predefined_route(query: Predefined) -> Any:
    async def endpoint(service: AnalyticsService, **params: Any) -> QueryResponse:
        answer = await service.predefined(query.name, params)
        return QueryResponse(
            success=True, data=answer.data, rows_count=answer.rows_count, execution_time_ms=answer.execution_time_ms
        )

    # FastAPI reads the signature: give each query its own typed, bounded query parameters.
    parameters = [inspect.Parameter("service", inspect.Parameter.KEYWORD_ONLY, annotation=ServiceDep)]
    parameters += [
        inspect.Parameter(
            p.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=p.default,
            annotation=Annotated[p.kind, Query(ge=p.ge, le=p.le, description=p.description)],
        )
        for p in query.params
    ]
    endpoint.__signature__ = inspect.Signature(parameters, return_annotation=QueryResponse)  # type: ignore[attr-defined]
    endpoint.__name__ = query.name
    return endpoint


for _query in PREDEFINED:
    for _path in _query.paths:
        router.add_api_route(
            _path,
            _predefined_route(_query),
            methods=["GET"],
            response_model=QueryResponse,
            summary=_query.description,
            tags=[_tag(_path)],
            operation_id=f"{_query.name}{_path.replace('/', '_').replace('-', '_')}",
        )


@router.get("/api/queries/list", response_model=QueriesList, tags=["Metadata"])
async def list_queries() -> QueriesList:
    data = [
        {
            "name": q.name,
            "paths": list(q.paths),
            "description": q.description,
            "params": {
                p.name: format(p.default, "f") if isinstance(p.default, Decimal) else p.default for p in q.params
            },
        }
        for q in PREDEFINED
    ]
    return QueriesList(
        success=True,
        data=data,
        rows_count=len(data),
        execution_time_ms=0,
        total_queries=len(data),
        queries=[q.name for q in PREDEFINED],
    )


_CUSTOM_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "not one read-only SELECT over the lake views, or it generates "
        "data (range, generate_series, recursive CTEs, unbounded repeat/lpad)",
    },
    408: {"description": "interrupted at the time limit"},
    422: {
        "description": "needed more memory than a custom query may use, or one row "
        "alone is over the answer's byte limit",
    },
    429: {"description": "the custom-query slots are busy; see Retry-After"},
}


@router.post("/api/query/custom", response_model=QueryResponse, tags=["Custom"], responses=_CUSTOM_ERRORS)
async def custom_query(body: CustomQueryRequest, service: ServiceDep) -> QueryResponse:
    """One read-only SELECT over the lake's tables and views, run apart from the dashboards: bounded in rows,
    answer bytes (`truncated` says when rows were cut), time, memory and concurrency."""
    answer = await service.custom(body.query)
    return QueryResponse(
        success=True,
        data=answer.data,
        rows_count=answer.rows_count,
        execution_time_ms=answer.execution_time_ms,
        truncated=answer.truncated,
    )
