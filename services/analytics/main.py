"""Wiring of the analytics process: the query engine chosen by settings, and the FastAPI app.
Nothing connects at import time; tests may pass their own engine."""

import asyncio
import contextlib
import importlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypedDict

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.analytics import api
from services.analytics.engine import Engine
from services.analytics.service import AnalyticsService
from services.analytics.settings import AnalyticsSettings
from services.platform import policy
from services.platform.app import create_base_app
from services.platform.health import health_response

log = logging.getLogger(__name__)

WARM_UP_DELAY = 1.0  # seconds after start-up before the SQL parser is loaded


async def _warm_up() -> None:
    """Loads the custom-query checker (sqlglot, 0.5 s of CPU) once the app serves, off the event loop, so neither
    start-up nor the first custom query pays for it."""
    await asyncio.sleep(WARM_UP_DELAY)
    await asyncio.to_thread(importlib.import_module, "services.analytics.guard")


class State(TypedDict):
    service: AnalyticsService
    settings: AnalyticsSettings


def build_engine(settings: AnalyticsSettings) -> Engine:
    if settings.engine == "athena":
        from services.analytics.athena_engine import AthenaEngine

        return AthenaEngine.from_settings(settings)
    from services.analytics.duckdb_engine import DuckDBEngine

    return DuckDBEngine(
        settings.lake_root,
        threads=settings.duckdb_threads,
        memory_limit=settings.duckdb_memory_limit,
        s3_endpoint_url=settings.s3_endpoint_url,
        region=settings.aws_region,
        listing_ttl=settings.listing_ttl_seconds,
        state_ttl=settings.state_cache_seconds,
        custom_threads=settings.custom_threads,
        custom_memory_limit=settings.custom_memory_limit,
        custom_concurrency=settings.custom_max_concurrent,
        rss_limit=settings.custom_rss_limit_mb * 1024 * 1024 or None,
    )


def _envelope(problem: dict[str, Any]) -> dict[str, Any]:
    """Every error answer in the original shape with a real status code, around the platform's problem body;
    `error` stays the text the original clients showed."""
    text = problem["detail"] if isinstance(problem["detail"], str) else problem["message"]
    return problem | {"success": False, "data": [], "rows_count": 0, "execution_time_ms": 0, "error": text}


def create_app(settings: AnalyticsSettings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        chosen = engine or build_engine(settings)
        await chosen.start()
        service = AnalyticsService(
            chosen,
            timeout=settings.query_timeout_seconds,
            custom_max_rows=settings.custom_max_rows,
            max_concurrent=settings.max_concurrent_queries,
            custom_max_concurrent=settings.custom_max_concurrent,
            custom_max_bytes=settings.custom_max_bytes,
        )
        warm_up = asyncio.create_task(_warm_up(), name="analytics-warm-up")
        try:
            yield State(service=service, settings=settings)
        finally:
            warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # a failed warm-up fails the first query
                await warm_up
            await chosen.close()

    app = create_base_app(
        title="Cloud Bank analytics (MS5)",
        version=settings.version,
        cors_origins=settings.cors_origins,
        policy=policy.ANALYTICS_POLICY,
        lifespan=lifespan,
        description="Read-only SQL over the event lake: DuckDB over Parquet, or Athena over Glue + S3.",
        error_body=_envelope,
    )

    @app.get("/health", tags=["Health"])
    async def health(request: Request) -> JSONResponse:
        service: AnalyticsService = request.state.service
        answer = await health_response(settings.version, {"database": service.ping}, timeout=5.0)
        body: dict[str, Any] = {
            **json.loads(bytes(answer.body)),
            "kafka": "not used",  # analytics reads only the lake; the sink is the Kafka consumer
            "engine": settings.engine,
            "lake": settings.lake_root,
        }
        return JSONResponse(body, status_code=answer.status_code)

    @app.get("/", tags=["Health"])
    async def root() -> dict[str, Any]:
        return {
            "service": "Cloud Bank analytics",
            "engine": settings.engine,
            "docs": "/docs",
            "queries": "/api/queries/list",
            "timestamp": datetime.now(UTC).isoformat(),
        }

    app.include_router(api.router)
    return app
