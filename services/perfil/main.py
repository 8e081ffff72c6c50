"""Wiring of MS3 perfil: the only place that opens the view store, Kafka clients and the projection."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from producers.kafka import make_producer
from services.perfil.api import Resources, router
from services.perfil.rebuild import rebuild
from services.perfil.runner import LiveProjection, make_reader
from services.perfil.service import ActiveView
from services.perfil.settings import PerfilSettings
from services.perfil.store import VIEW_FORMAT, ViewStore, ensure_database
from services.platform.app import create_base_app
from services.platform.health import kafka_probe
from services.platform.workers import Workers

log = logging.getLogger(__name__)


async def open_store(settings: PerfilSettings) -> ViewStore:
    """Create the database if needed, open the pool, migrate, make sure a view exists."""
    await ensure_database(settings.database_url)
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        command_timeout=settings.db_command_timeout,
    )
    store = ViewStore(pool)
    try:
        await store.migrate()
        await store.upgrade_view(await store.ensure_active_view())
    except BaseException:
        await pool.close()
        raise
    return store


async def _rebuild_once(store: ViewStore, settings: PerfilSettings, stop: asyncio.Event) -> None:
    """The active copy was built by older code: rebuild beside it (it keeps serving) and switch, once."""
    log.warning("the active perfil view predates format %d: rebuilding it from offset 0", VIEW_FORMAT)
    await rebuild(store, settings.kafka_bootstrap, settings.topics, compare=False, say=log.warning)
    await stop.wait()  # done: Workers would otherwise run it again


def create_app(settings: PerfilSettings | None = None) -> FastAPI:
    settings = settings or PerfilSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await open_store(settings)
        producer = make_producer(settings.kafka_bootstrap, client_id="perfil")
        workers = Workers()
        reader = make_reader(settings.kafka_bootstrap, max_poll_records=settings.batch_max_records)
        try:
            await producer.start()
            resources = Resources(
                store=store,
                view=ActiveView(store),
                version=settings.version,
                probes={"database": lambda: store.pool.fetchval("SELECT 1"), "kafka": lambda: kafka_probe(producer)},
            )
            if settings.run_workers:
                if await store.upgrade_view(await store.active_schema()) < VIEW_FORMAT:
                    workers.spawn("perfil.upgrade", lambda stop: _rebuild_once(store, settings, stop))
                await reader.start()
                projection = LiveProjection(
                    store, reader, producer, settings.topics, max_records=settings.batch_max_records
                )
                resources.projection = projection
                workers.spawn("perfil.proyeccion", projection.run)
            app.state.resources = resources
            yield
        finally:
            await workers.close()
            await reader.stop()
            await producer.stop()
            await store.pool.close()

    app = create_base_app(
        title="Cloud Bank — perfil (MS3)",
        version=settings.version,
        cors_origins=settings.cors_origins,
        lifespan=lifespan,
        description="360° customer profile: a materialized view folded from the domain topics.",
    )

    app.include_router(router)
    return app
