"""Wiring of the transacciones process: Mongo + beanie, the writer, and (with run_workers) the outbox relay,
the saga orchestrator consumer and the sweeper. Nothing connects at import time."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from typing import Any

from beanie import init_beanie
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pymongo import AsyncMongoClient

from consumers.runner import ConsumerLoop, make_consumer
from contracts import topics
from producers.outbox import OutboxRelay
from services.platform import policy
from services.platform.app import create_base_app
from services.platform.health import health_response
from services.platform.kafka_link import KafkaLink
from services.platform.workers import Loop, Workers
from services.transacciones.api import router
from services.transacciones.listing import LIST_FIELDS, Listado
from services.transacciones.orchestrator import GROUP_ID, Orquestador
from services.transacciones.propietarios import CONSUMER as PROPIETARIOS
from services.transacciones.propietarios import Propietarios
from services.transacciones.relay import TransaccionOutbox
from services.transacciones.repository import (
    MongoRepository,
    TransaccionDocument,
    detect_money_bson,
    ensure_indexes,
)
from services.transacciones.service import Finales, TransaccionesService
from services.transacciones.settings import TransaccionesSettings
from services.transacciones.store import TransaccionStore
from services.transacciones.sweeper import Sweeper

log = logging.getLogger(__name__)


def _saga_loop(settings: TransaccionesSettings, orquestador: Orquestador, link: KafkaLink) -> Loop:
    """The saga's reply consumer, started inside its worker and not before the API serves: its start waits for the
    group's assignment, which after a kill -9 waits for the dead member's session to expire (10 s), and while
    Kafka is down does not end at all. Sagas simply advance once it runs; the API has nothing to wait for."""

    async def run(stop: asyncio.Event) -> None:
        producer = await link.when_up(stop, GROUP_ID)  # also the dead-letter producer
        if producer is None:
            return
        consumer = make_consumer(settings.kafka_bootstrap, GROUP_ID, [topics.CUENTAS])
        try:
            await consumer.start()  # a failed start is stopped too (its client would leak), then Workers retries
            loop = ConsumerLoop(
                consumer,
                producer,
                group_id=GROUP_ID,
                handler=orquestador.handle,
                batch_handler=orquestador.handle_batch,
                # Replies only meet in the single writer: each partition's batch shares its next round.
                parallel_partitions=True,
            )
            await loop.run(stop)
        finally:
            await consumer.stop()

    return run


def _propietarios_loop(settings: TransaccionesSettings, propietarios: Propietarios, link: KafkaLink) -> Loop:
    """The replica of account owners (propietarios.py), its own consumer group over bank.cuentas.v1."""

    async def run(stop: asyncio.Event) -> None:
        producer = await link.when_up(stop, PROPIETARIOS)  # the dead-letter producer
        if producer is None:
            return
        consumer = make_consumer(settings.kafka_bootstrap, PROPIETARIOS, [topics.CUENTAS])
        try:
            await consumer.start()
            loop = ConsumerLoop(
                consumer, producer, group_id=PROPIETARIOS, handler=propietarios.one, batch_handler=propietarios.batch
            )
            await loop.run(stop)
        finally:
            await consumer.stop()

    return run


def _relay_loop(settings: TransaccionesSettings, relay_store: TransaccionOutbox, link: KafkaLink) -> Loop:
    async def run(stop: asyncio.Event) -> None:
        producer = await link.when_up(stop, "outbox relay")
        if producer is not None:
            await OutboxRelay(relay_store, producer, batch_size=settings.relay_batch, idle_sleep=0.0).run(stop)

    return run


def create_app(settings: TransaccionesSettings | None = None) -> FastAPI:
    settings = settings or TransaccionesSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongo_url, tz_aware=True, tzinfo=UTC, serverSelectionTimeoutMS=5000, appname="transacciones"
        )
        db = client[settings.database]
        await init_beanie(database=db, document_models=[TransaccionDocument], skip_indexes=True)
        await ensure_indexes(db)
        propietarios = Propietarios(db)
        await propietarios.ensure_index()
        money = settings.money_bson if settings.money_bson != "auto" else await detect_money_bson(db)
        store = TransaccionStore(
            MongoRepository(db, money),
            batch=settings.write_batch,
            cache_size=settings.cache_documents,
            fold_seconds=settings.publish_ack_fold_seconds,
        )
        relay_store = TransaccionOutbox(store)
        finales = Finales()
        store.subscribe(finales.on_written)
        listado: Listado | None = None
        if settings.list_index == "on" or (settings.list_index == "auto" and money == "string"):
            listado = Listado()
            store.subscribe(listado.on_written)  # before recovery adopts documents, so none is missed
        service = TransaccionesService(store, relay_store, finales, settings.wait_seconds, listado)
        sweeper = Sweeper(
            service,
            stuck_after=settings.stuck_after_seconds,
            max_interval=settings.max_resend_interval_seconds,
            interval=settings.sweep_interval_seconds,
            recovery_interval=settings.recovery_interval_seconds,
        )
        # Kafka is not awaited: requests are served from Mongo (the outbox fills) while the broker is away; the
        # relay and the saga consumer start once it answers.
        link = KafkaLink(settings.kafka_bootstrap, client_id="transacciones")
        workers = Workers()
        try:
            workers.spawn("writer", store.run)
            if listado is not None:
                index = listado
                workers.spawn(
                    "listing-index", lambda stop: index.build(lambda: store.repo.list_scans(LIST_FIELDS), stop)
                )
            if settings.run_workers:
                await sweeper.recover()
                workers.spawn("outbox-relay", _relay_loop(settings, relay_store, link))
                workers.spawn("saga", _saga_loop(settings, Orquestador(service), link))
                workers.spawn(PROPIETARIOS, _propietarios_loop(settings, propietarios, link))
                workers.spawn("sweeper", sweeper.run)
                workers.spawn("recovery", sweeper.run_recovery)
            app.state.service = service
            app.state.propietarios = propietarios
            app.state.probes = {"database": store.repo.ping, "kafka": link.probe}
            app.state.stats = lambda: {
                "writer_rounds": store.rounds,
                "writes": store.writes,
                "store_seconds": {k: round(v, 3) for k, v in store.seconds.items()},
                "events_published": relay_store.published,
                "publish_seconds": round(relay_store.publish_seconds, 3),
                "relay_backlog": relay_store.backlog,
                "sagas_in_progress": sweeper.in_progress,
                "resent": sweeper.resent,
                "money_bson": money,
                "listing_index": None if listado is None else {"ready": listado.ready, "transactions": len(listado)},
            }
            yield
        finally:
            await workers.close()
            await link.close()
            await client.close()

    app = create_base_app(
        title="Cloud Bank — transacciones",
        version=settings.version,
        cors_origins=settings.cors_origins,
        policy=policy.TRANSACCIONES,
        lifespan=lifespan,
        description="MS4: transactions and the orchestrated money saga.",
    )
    app.include_router(router)

    @app.get("/health", tags=["health"])
    async def health() -> JSONResponse:
        return await health_response(settings.version, app.state.probes)

    @app.get("/stats", tags=["health"], include_in_schema=False)
    async def stats() -> dict[str, Any]:
        result: dict[str, Any] = app.state.stats()
        return result

    return app
