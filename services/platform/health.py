"""The /health answer every service gives: each dependency really probed; 503 only when one a request needs is down.

Readiness (what the balancer and `stack.sh` read from the status code) follows what a request needs: the service's
own database. A dependency only the background work needs (Kafka: the outbox relays and consumers wait for it and
catch up) is probed and reported, and its failure makes the answer `"status": "degraded"` with HTTP 200, so a broker
restart does not take every instance out of rotation while writes still land in the outbox.
"""

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

if TYPE_CHECKING:  # analytics never loads aiokafka
    from aiokafka import AIOKafkaProducer

Probe = Callable[[], Awaitable[object]]
Probes = Mapping[str, Probe]

# Probed and reported, but not needed to answer a request: their failure degrades instead of failing the answer.
BACKGROUND = frozenset({"kafka"})


async def _check(probe: Probe, timeout: float) -> str:
    try:
        await asyncio.wait_for(probe(), timeout)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "connected"


async def kafka_probe(producer: "AIOKafkaProducer") -> None:
    """Asks the broker for fresh metadata: succeeds only when a broker answers."""
    client = producer.client
    if not await client.fetch_all_metadata():
        raise ConnectionError("no metadata")


async def health_response(
    version: str,
    probes: Probes,
    timeout: float = 2.0,
    background: Collection[str] = BACKGROUND,
    facts: Mapping[str, str] | None = None,
) -> JSONResponse:
    """`{<probe>: "connected"|"error: ...", "status": "healthy"|"degraded"|"unhealthy", "timestamp", "version"}`
    plus the service's constant `facts` (analytics: its engine and lake): 503 when a probe outside `background`
    failed, 200 otherwise."""
    results = await asyncio.gather(*(_check(p, timeout) for p in probes.values()))
    body: dict[str, Any] = dict(zip(probes, results, strict=True))
    down = {name for name, result in body.items() if result != "connected"}
    status = "unhealthy" if down - set(background) else "degraded" if down else "healthy"
    body |= {"status": status, "timestamp": datetime.now(UTC).isoformat(), "version": version}
    body |= facts or {}
    return JSONResponse(body, status_code=503 if status == "unhealthy" else 200)
