"""Wiring of the clientes process: pool, migrations, Kafka producer, outbox relay and cuentas projection workers,
and the FastAPI app. Nothing connects at import time."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypedDict

import asyncpg
from fastapi import FastAPI

from consumers.runner import ConsumerLoop, make_consumer
from producers.outbox import OutboxRelay
from producers.outbox_postgres import PostgresOutbox
from services.clientes import api
from services.clientes.handlers import CuentasProjector
from services.clientes.projection import CONSUMER
from services.clientes.repository import ClientesRepository
from services.clientes.service import ClientesService
from services.clientes.settings import ClientesSettings
from services.platform import policy
from services.platform.app import create_base_app
from services.platform.health import Probe
from services.platform.kafka_link import KafkaLink
from services.platform.migrate import migrate_postgres
from services.platform.workers import Loop, Workers

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class State(TypedDict):
    service: ClientesService
    probes: dict[str, Probe]
    version: str


def create_app(settings: ClientesSettings | None = None) -> FastAPI:
    settings = settings or ClientesSettings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        pool = await asyncpg.create_pool(
            settings.database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            command_timeout=settings.db_command_timeout,
        )
        link = KafkaLink(settings.kafka_bootstrap, client_id="clientes")
        workers = Workers()
        outbox_written = asyncio.Event()  # set after each commit with events: the relay publishes at once
        try:
            async with pool.acquire() as conn:
                await migrate_postgres(conn, MIGRATIONS)
            if settings.run_workers:
                workers.spawn("clientes.outbox-relay", relay_worker(pool, link, settings, outbox_written))
                workers.spawn(CONSUMER, projection_worker(pool, link, settings))

            async def database() -> None:
                await pool.fetchval("SELECT 1")

            yield State(
                service=ClientesService(ClientesRepository(pool, on_events=outbox_written.set)),
                probes={"database": database, "kafka": link.probe},
                version=settings.version,
            )
        finally:
            await workers.close()
            await link.close()
            await pool.close()

    app = create_base_app(
        title="Cloud Bank · clientes (MS1)",
        version=settings.version,
        cors_origins=settings.cors_origins,
        policy=policy.CLIENTES,
        lifespan=lifespan,
        description="Clientes y documentos de identidad. Eventos en bank.clientes.v1.",
    )
    app.include_router(api.router)
    return app


def relay_worker(pool: asyncpg.Pool, link: KafkaLink, settings: ClientesSettings, wake: asyncio.Event) -> Loop:
    async def run(stop: asyncio.Event) -> None:
        producer = await link.when_up(stop, "outbox relay")
        if producer is not None:
            # Our own writes wake the relay; the idle poll only catches rows of other instances (or a crash).
            relay = OutboxRelay(PostgresOutbox(pool), producer, idle_sleep=settings.relay_idle_seconds, wake=wake)
            await relay.run(stop)

    return run


def projection_worker(pool: asyncpg.Pool, link: KafkaLink, settings: ClientesSettings) -> Loop:
    async def run(stop: asyncio.Event) -> None:
        producer = await link.when_up(stop, CONSUMER)  # also the dead-letter producer
        if producer is None:
            return
        consumer = make_consumer(settings.kafka_bootstrap, settings.cuentas_group, [settings.cuentas_topic])
        try:
            await consumer.start()
            projector = CuentasProjector(pool)
            loop = ConsumerLoop(
                consumer,
                producer,
                group_id=settings.cuentas_group,
                handler=projector.handle,
                batch_handler=projector.handle_batch,
            )
            await loop.run(stop)
        finally:
            await consumer.stop()

    return run
