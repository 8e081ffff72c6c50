"""GET /api/operaciones: the operator view (services.platform.ops_view) for the console's "Operaciones" tab, so a
browser never reaches a process's /metrics (internal ports) and only the operaciones role (and admin; auditor reads
everything) sees it."""

from fastapi import APIRouter

from contracts.topics import ALL_TOPICS, dlq
from services.analytics.dependencies import SettingsDep
from services.platform.ops_view import OpsView, local_targets, ops_view, parse_targets

router = APIRouter()


@router.get("/api/operaciones", response_model=OpsView, tags=["Operaciones"])
async def operaciones(settings: SettingsDep) -> OpsView:
    """Every process's /metrics scraped now and summed up: consumer lag, outbox backlog, DLQ depth, saga p50/p99,
    failures. A process that does not answer is listed as down, never an error of this route."""
    targets = parse_targets(settings.metrics_targets) if settings.metrics_targets else local_targets()
    return await ops_view(targets, settings.kafka_bootstrap, [dlq(t) for t in ALL_TOPICS])
