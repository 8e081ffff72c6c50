"""Wiring of the analytics process: the query engine chosen by settings, and the FastAPI app.
Nothing connects at import time; tests may pass their own engine."""

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from services.analytics import api, operaciones
from services.analytics.dependencies import State
from services.analytics.engine import Engine
from services.analytics.service import AnalyticsService
from services.analytics.settings import AnalyticsSettings
from services.platform import policy
from services.platform.service_app import create_service_app, service_lifespan

WARM_UP_DELAY = 1.0  # seconds after start-up before the SQL parser is loaded


@dataclass(frozen=True)
class Resources:
    """What the app serves from: the engine `running` builds and starts, or one (started) a test passes."""

    engine: Engine


async def _warm_up() -> None:
    """Loads the custom-query checker (sqlglot, 0.5 s of CPU) once the app serves, off the event loop, so neither
    start-up nor the first custom query pays for it."""
    await asyncio.sleep(WARM_UP_DELAY)
    await asyncio.to_thread(importlib.import_module, "services.analytics.guard")


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


@asynccontextmanager
async def running(settings: AnalyticsSettings) -> AsyncIterator[Resources]:
    """The engine settings choose, started, and the parser's warm-up; closed at shutdown."""
    engine = build_engine(settings)
    await engine.start()
    warm_up = asyncio.create_task(_warm_up(), name="analytics-warm-up")
    try:
        yield Resources(engine)
    finally:
        warm_up.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # a failed warm-up fails the first query
            await warm_up
        await engine.close()


def _envelope(problem: dict[str, Any]) -> dict[str, Any]:
    """Every error answer in the original shape with a real status code, around the platform's problem body;
    `error` stays the text the original clients showed."""
    text = problem["detail"] if isinstance(problem["detail"], str) else problem["message"]
    return problem | {"success": False, "data": [], "rows_count": 0, "execution_time_ms": 0, "error": text}


def create_app(settings: AnalyticsSettings | None = None, resources: Resources | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()

    def state(res: Resources) -> State:
        service = AnalyticsService(
            res.engine,
            timeout=settings.query_timeout_seconds,
            custom_max_rows=settings.custom_max_rows,
            max_concurrent=settings.max_concurrent_queries,
            custom_max_concurrent=settings.custom_max_concurrent,
            custom_max_bytes=settings.custom_max_bytes,
        )
        return State(settings=settings, probes={"database": service.ping}, service=service)

    return create_service_app(
        settings,
        title="Cloud Bank analytics (MS5)",
        description="Read-only SQL over the event lake: DuckDB over Parquet, or Athena over Glue + S3.",
        lifespan=service_lifespan(state, resources, lambda: running(settings)),
        policy=policy.ANALYTICS_POLICY,
        routers=[api.router, operaciones.router],
        health_timeout=5.0,
        # analytics reads only the lake; the sink is the Kafka consumer
        health_facts={"kafka": "not used", "engine": settings.engine, "lake": settings.lake_root},
        error_body=_envelope,
    )
