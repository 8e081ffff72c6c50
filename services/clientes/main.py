"""Wiring of the clientes process: pool, migrations, Kafka link, outbox relay and cuentas projection workers,
and the FastAPI app. Nothing connects at import time."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from producers.outbox_postgres import PostgresOutbox
from producers.outbox_postgres import backlog as outbox_backlog
from services.clientes import api
from services.clientes.dependencies import State
from services.clientes.handlers import CuentasProjector
from services.clientes.projection import CONSUMER
from services.clientes.repository import ClientesRepository, migrate
from services.clientes.service import ClientesService
from services.clientes.settings import ClientesSettings
from services.platform import metrics, policy
from services.platform.health import Probes
from services.platform.kafka_link import KafkaLink
from services.platform.service_app import create_service_app, service_lifespan
from services.platform.workers import Loop, Workers

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Resources:
    """What the app serves from: opened by `running`, or passed (already open) by a test."""

    service: ClientesService
    probes: Probes


@asynccontextmanager
async def running(settings: ClientesSettings) -> AsyncIterator[Resources]:
    """The migrated pool, the Kafka link and (with run_workers) the outbox relay and the cuentas projection;
    closed in reverse order."""
    async with (
        asyncpg.create_pool(
            settings.database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            command_timeout=settings.db_command_timeout,
        ) as pool,
        KafkaLink(settings.kafka_bootstrap, client_id="clientes") as link,
        Workers() as workers,
    ):
        async with pool.acquire() as conn:
            await migrate(conn, MIGRATIONS)
        outbox_written = asyncio.Event()  # set after each commit with events: the relay publishes at once
        if settings.run_workers:
            # Our own writes wake the relay; the idle poll only catches rows of other instances (or a crash).
            relay = link.relay(PostgresOutbox(pool), idle_sleep=settings.relay_idle_seconds, wake=outbox_written)
            workers.spawn("clientes.outbox-relay", relay)
            workers.spawn(CONSUMER, projection_worker(pool, link, settings))

        async def database() -> None:
            await pool.fetchval("SELECT 1")

        with metrics.watch_outbox("clientes", lambda: outbox_backlog(pool)) if settings.run_workers else nullcontext():
            yield Resources(
                service=ClientesService(ClientesRepository(pool, on_events=outbox_written.set)),
                probes={"database": database, "kafka": link.probe},
            )


def projection_worker(pool: asyncpg.Pool, link: KafkaLink, settings: ClientesSettings) -> Loop:
    """The cuentas projection (what DELETE /clientes checks), consuming the cuentas topic."""
    projector = CuentasProjector(pool)
    return link.consumer(settings.cuentas_group, [settings.cuentas_topic], projector, bulk=True, whole_poll=True)


def create_app(settings: ClientesSettings | None = None, resources: Resources | None = None) -> FastAPI:
    settings = settings or ClientesSettings()

    def state(res: Resources) -> State:
        return State(settings=settings, probes=res.probes, service=res.service)

    return create_service_app(
        settings,
        title="Cloud Bank · clientes (MS1)",
        description="Clientes y documentos de identidad. Eventos en bank.clientes.v1.",
        lifespan=service_lifespan(state, resources, lambda: running(settings)),
        policy=policy.CLIENTES,
        routers=[api.router],
    )
