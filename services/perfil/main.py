"""Wiring of MS3 perfil: the only place that opens the view store, Kafka clients and the projection."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from consumers.runner import make_consumer
from services.perfil.api import router
from services.perfil.dependencies import State, Views
from services.perfil.rebuild import rebuild
from services.perfil.runner import LiveProjection
from services.perfil.service import ActiveView
from services.perfil.settings import PerfilSettings
from services.perfil.store import VIEW_FORMAT, ViewStore, ensure_database
from services.platform import metrics, policy
from services.platform.health import Probes
from services.platform.kafka_link import KafkaLink
from services.platform.service_app import create_service_app, service_lifespan
from services.platform.workers import Loop, Workers

log = logging.getLogger(__name__)

PROJECTION = "perfil.proyeccion"


@dataclass(frozen=True)
class Resources:
    """What the app serves from: opened by `running`, or passed (already open) by a test."""

    views: Views
    probes: Probes


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
    await rebuild(
        store, settings.kafka_bootstrap, settings.topics, compare=False, say=log.warning, older_than=VIEW_FORMAT
    )
    await stop.wait()  # done: Workers would otherwise run it again


def _projection_loop(settings: PerfilSettings, views: Views, link: KafkaLink) -> Loop:
    """The live projection, its consumer (a member of the perfil group) started inside the worker: while Kafka is
    away the API serves the view as it stands (its lag grows) and the fold resumes from the view's own offsets once
    the broker answers."""

    async def run(producer: AIOKafkaProducer, stop: asyncio.Event) -> None:  # producer: for the dead letters
        consumer = make_consumer(
            settings.kafka_bootstrap, settings.group_id, (), max_poll_records=settings.batch_max_records, bulk=True
        )
        try:
            await consumer.start()
            projection = LiveProjection(
                views.store, consumer, producer, settings.topics, max_records=settings.batch_max_records
            )
            views.projection = projection
            with metrics.watch_consumer(settings.group_id, consumer):
                await projection.run(stop)
        finally:
            await consumer.stop()

    return link.worker(PROJECTION, run)


@asynccontextmanager
async def _opened(settings: PerfilSettings) -> AsyncIterator[ViewStore]:
    store = await open_store(settings)
    try:
        yield store
    finally:
        await store.pool.close()


@asynccontextmanager
async def running(settings: PerfilSettings) -> AsyncIterator[Resources]:
    """The view store (migrated, its view upgraded), the Kafka link and (with run_workers) the live projection and
    a one-off rebuild of a view built by older code; closed in reverse order."""
    async with (
        _opened(settings) as store,
        # Kafka is not awaited: the view is served from the database while the broker is away.
        KafkaLink(settings.kafka_bootstrap, client_id="perfil") as link,
        Workers() as workers,
    ):
        views = Views(store=store, view=ActiveView(store))
        if settings.run_workers:
            if await store.upgrade_view(await store.active_schema()) < VIEW_FORMAT:
                workers.spawn("perfil.upgrade", lambda stop: _rebuild_once(store, settings, stop))
            workers.spawn(PROJECTION, _projection_loop(settings, views, link))
        yield Resources(views=views, probes={"database": lambda: store.pool.fetchval("SELECT 1"), "kafka": link.probe})


def create_app(settings: PerfilSettings | None = None, resources: Resources | None = None) -> FastAPI:
    settings = settings or PerfilSettings()

    def state(res: Resources) -> State:
        return State(settings=settings, probes=res.probes, views=res.views)

    return create_service_app(
        settings,
        title="Cloud Bank — perfil (MS3)",
        description="360° customer profile: a materialized view folded from the domain topics.",
        lifespan=service_lifespan(state, resources, lambda: running(settings)),
        policy=policy.PERFIL,
        routers=[router],
    )
