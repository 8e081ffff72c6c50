"""Wiring of MS3 perfil: the only place that opens the view store, Kafka clients and the projection."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from services.perfil.api import Resources, router
from services.perfil.rebuild import rebuild
from services.perfil.runner import LiveProjection, make_reader
from services.perfil.service import ActiveView
from services.perfil.settings import PerfilSettings
from services.perfil.store import VIEW_FORMAT, ViewStore, ensure_database
from services.platform import policy
from services.platform.app import create_base_app
from services.platform.kafka_link import KafkaLink
from services.platform.workers import Loop, Workers

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


def _projection_loop(settings: PerfilSettings, resources: Resources, link: KafkaLink) -> Loop:
    """The live projection, its reader started inside the worker: while Kafka is away the API serves the view
    as it stands (its lag grows) and the fold resumes from the view's own offsets once the broker answers."""

    async def run(stop: asyncio.Event) -> None:
        producer = await link.when_up(stop, "perfil.proyeccion")  # the dead-letter producer
        if producer is None:
            return
        reader = make_reader(settings.kafka_bootstrap, max_poll_records=settings.batch_max_records)
        try:
            await reader.start()
            projection = LiveProjection(
                resources.store, reader, producer, settings.topics, max_records=settings.batch_max_records
            )
            resources.projection = projection
            await projection.run(stop)
        finally:
            await reader.stop()

    return run


def create_app(settings: PerfilSettings | None = None) -> FastAPI:
    settings = settings or PerfilSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await open_store(settings)
        # Kafka is not awaited: the view is served from the database while the broker is away.
        link = KafkaLink(settings.kafka_bootstrap, client_id="perfil")
        workers = Workers()
        try:
            resources = Resources(
                store=store,
                view=ActiveView(store),
                version=settings.version,
                probes={"database": lambda: store.pool.fetchval("SELECT 1"), "kafka": link.probe},
            )
            if settings.run_workers:
                if await store.upgrade_view(await store.active_schema()) < VIEW_FORMAT:
                    workers.spawn("perfil.upgrade", lambda stop: _rebuild_once(store, settings, stop))
                workers.spawn("perfil.proyeccion", _projection_loop(settings, resources, link))
            app.state.resources = resources
            yield
        finally:
            await workers.close()
            await link.close()
            await store.pool.close()

    app = create_base_app(
        title="Cloud Bank — perfil (MS3)",
        version=settings.version,
        cors_origins=settings.cors_origins,
        policy=policy.PERFIL,
        lifespan=lifespan,
        description="360° customer profile: a materialized view folded from the domain topics.",
    )

    app.include_router(router)
    return app
