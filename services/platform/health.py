"""The /health answer every service gives: each dependency really probed, 503 when one is down."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi.responses import JSONResponse

Probe = Callable[[], Awaitable[object]]


async def _check(probe: Probe, timeout: float) -> str:
    try:
        await asyncio.wait_for(probe(), timeout)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "connected"


async def kafka_probe(producer: AIOKafkaProducer) -> None:
    """Asks the broker for fresh metadata: succeeds only when a broker answers."""
    client = producer.client
    if not await client.fetch_all_metadata():
        raise ConnectionError("no metadata")


async def health_response(version: str, probes: dict[str, Probe], timeout: float = 2.0) -> JSONResponse:
    results = await asyncio.gather(*(_check(p, timeout) for p in probes.values()))
    body: dict[str, Any] = dict(zip(probes, results, strict=True))
    healthy = all(r == "connected" for r in results)
    body |= {
        "status": "healthy" if healthy else "unhealthy",
        "timestamp": datetime.now(UTC).isoformat(),
        "version": version,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
