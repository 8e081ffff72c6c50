"""Wiring of a cuentas process: the only place that opens the pool and the producer, runs migrations and starts
the outbox relay and the consumers. Both instances behind the balancer run the same thing; correctness lives in
the database (row locks, GET_LOCK for the relay, the inbox) and in Kafka's consumer groups."""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import aiomysql
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from consumers.runner import BatchHandler, ConsumerLoop, Handler, make_consumer
from contracts import topics
from producers.outbox import OutboxRelay
from producers.outbox_mysql import MySQLOutbox
from services.cuentas import db
from services.cuentas.api import router
from services.cuentas.handlers import ComandosHandler, ReplicaClientesHandler
from services.cuentas.service import CuentasService
from services.cuentas.settings import CuentasSettings
from services.platform import policy
from services.platform.app import create_base_app
from services.platform.health import health_response
from services.platform.kafka_link import KafkaLink
from services.platform.workers import Loop, Workers

log = logging.getLogger(__name__)

GROUP_COMANDOS = "cuentas.comandos"
GROUP_REPLICA = "cuentas.replica-clientes"


def _consumer_loop(
    settings: CuentasSettings,
    link: KafkaLink,
    *,
    group: str,
    topic: str,
    handler: Handler,
    batch_handler: BatchHandler,
    max_poll_records: int,
) -> Loop:
    async def run(stop: asyncio.Event) -> None:
        producer = await link.when_up(stop, group)  # also the dead-letter producer
        if producer is None:
            return
        consumer = make_consumer(settings.kafka_bootstrap, group, [topic], max_poll_records=max_poll_records)
        try:
            await consumer.start()  # a failed start is stopped too (its client would leak), then Workers retries
            loop = ConsumerLoop(consumer, producer, group_id=group, handler=handler, batch_handler=batch_handler)
            await loop.run(stop)
        finally:
            await consumer.stop()

    return run


def _relay_loop(settings: CuentasSettings, pool: aiomysql.Pool, link: KafkaLink) -> Loop:
    async def run(stop: asyncio.Event) -> None:
        producer = await link.when_up(stop, "outbox relay")
        if producer is not None:
            await OutboxRelay(MySQLOutbox(pool), producer, batch_size=settings.relay_batch).run(stop)

    return run


def _start_workers(settings: CuentasSettings, pool: aiomysql.Pool, link: KafkaLink) -> Workers:
    workers = Workers()
    workers.spawn("outbox-relay", _relay_loop(settings, pool, link))
    replica = ReplicaClientesHandler(pool)
    workers.spawn(
        "replica-clientes",
        _consumer_loop(
            settings,
            link,
            group=GROUP_REPLICA,
            topic=topics.CLIENTES,
            handler=replica.one,
            batch_handler=replica.batch,
            max_poll_records=500,
        ),
    )
    comandos = ComandosHandler(pool)
    # One member of the group per process by default (CUENTAS_COMMAND_CONSUMERS for more): a ConsumerLoop handles
    # its partitions one after the other, and a second member would overlap their database round trips.
    for n in range(settings.command_consumers):
        workers.spawn(
            f"comandos-{n}",
            _consumer_loop(
                settings,
                link,
                group=GROUP_COMANDOS,
                topic=topics.CUENTAS_COMANDOS,
                handler=comandos.one,
                batch_handler=comandos.batch,
                max_poll_records=settings.command_batch,
            ),
        )
    return workers


def create_app(settings: CuentasSettings | None = None) -> FastAPI:
    settings = settings or CuentasSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.monotonic()
        target = db.Database(
            settings.mysql_host,
            settings.mysql_port,
            settings.mysql_user,
            settings.mysql_password,
            settings.mysql_database,
        )
        await db.ensure_database(target)
        # Three pools, so that no kind of work can starve another: a burst of requests waiting on a hot account's
        # row lock must neither stall the saga's commands nor make /health time out (HAProxy would then take the
        # instance out of rotation exactly when it is busiest).
        api_pool = await db.open_pool(target, maxsize=settings.pool_size)
        # The relay and each consumer hold at most one connection at a time.
        worker_pool = await db.open_pool(target, maxsize=2 + settings.command_consumers)
        health_pool = await db.open_pool(target, maxsize=1)
        # Kafka is not awaited: the API serves from the database (writes land in the outbox) while the broker is
        # away, and the relay and consumers start once it answers.
        link = KafkaLink(settings.kafka_bootstrap, client_id=settings.instance)
        workers = Workers()
        try:
            await db.migrate(api_pool)
            if settings.run_workers:
                workers = _start_workers(settings, worker_pool, link)
            app.state.service = CuentasService(api_pool)
            app.state.fault_injection = settings.fault_injection
            app.state.health_pool = health_pool
            app.state.kafka = link
            log.info("%s ready in %.1fs (database, migrations)", settings.instance, time.monotonic() - started)
            yield
        finally:
            await workers.close()
            await link.close()
            for pool in (api_pool, worker_pool, health_pool):
                pool.close()
                await pool.wait_closed()

    app = create_base_app(
        title="Cloud Bank — cuentas (MS2)",
        version=settings.version,
        cors_origins=settings.cors_origins,
        policy=policy.CUENTAS,
        lifespan=lifespan,
        description="Account types, accounts, balances and their ledger. Money as decimal strings.",
    )
    app.include_router(router)

    @app.get("/health", tags=["health"])
    async def health() -> JSONResponse:
        pool: aiomysql.Pool = app.state.health_pool
        link: KafkaLink = app.state.kafka
        return await health_response(settings.version, {"database": lambda: db.ping(pool), "kafka": link.probe})

    return app
