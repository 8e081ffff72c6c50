"""Wiring of a cuentas process: the only place that opens the pools and the Kafka link, runs migrations and starts
the outbox relay and the consumers. Both instances behind the balancer run the same thing; correctness lives in
the database (row locks, GET_LOCK for the relay, the inbox) and in Kafka's consumer groups."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass

import aiomysql
from fastapi import FastAPI

from contracts import topics
from producers.outbox import sleep_or_stop
from producers.outbox_mysql import MySQLOutbox
from producers.outbox_mysql import backlog as outbox_backlog
from services.cuentas import db
from services.cuentas.api import router
from services.cuentas.dependencies import State
from services.cuentas.handlers import ComandosHandler, ReplicaClientesHandler
from services.cuentas.repository import utcnow
from services.cuentas.retenciones import espera_de_expiracion
from services.cuentas.service import CuentasService
from services.cuentas.settings import CuentasSettings
from services.platform import metrics, policy
from services.platform.health import Probes
from services.platform.kafka_link import KafkaLink
from services.platform.service_app import create_service_app, service_lifespan
from services.platform.workers import Workers

log = logging.getLogger(__name__)

GROUP_COMANDOS = "cuentas.comandos"
GROUP_REPLICA = "cuentas.replica-clientes"


@dataclass(frozen=True)
class Resources:
    """What the app serves from: opened by `running`, or passed (already open) by a test."""

    service: CuentasService
    probes: Probes


@asynccontextmanager
async def _pool(target: db.Database, maxsize: int) -> AsyncIterator[aiomysql.Pool]:
    pool = await db.open_pool(target, maxsize=maxsize)
    try:
        yield pool
    finally:
        pool.close()
        await pool.wait_closed()


def _start_workers(
    workers: Workers,
    settings: CuentasSettings,
    pool: aiomysql.Pool,
    link: KafkaLink,
    outbox_written: asyncio.Event,
    hold_created: asyncio.Event,
) -> None:
    # Woken by this process's commits, the relay polls the table only every relay_idle_seconds (for rows the other
    # instance's relay left behind, e.g. when it was killed) instead of 50 times a second.
    relay = MySQLOutbox(pool, claim_wait=settings.relay_idle_seconds)
    workers.spawn(
        "outbox-relay",
        link.relay(relay, batch_size=settings.relay_batch, idle_sleep=settings.relay_idle_seconds, wake=outbox_written),
    )
    replica = ReplicaClientesHandler(pool)
    workers.spawn(
        "replica-clientes",
        link.consumer(GROUP_REPLICA, [topics.CLIENTES], replica, max_poll_records=500),
    )
    vencimientos = CuentasService(pool, on_events=outbox_written.set)
    workers.spawn(
        "retenciones-vencidas", expirar_retenciones(vencimientos, settings.expiry_interval_seconds, hold_created)
    )
    comandos = ComandosHandler(pool, on_replies=outbox_written.set)
    # One member of the group per process by default (CUENTAS_COMMAND_CONSUMERS for more): a ConsumerLoop handles
    # its partitions one after the other, and a second member would overlap their database round trips.
    for n in range(settings.command_consumers):
        workers.spawn(
            f"comandos-{n}",
            link.consumer(
                GROUP_COMANDOS,
                [topics.CUENTAS_COMANDOS],
                comandos,
                max_poll_records=settings.command_batch,
                whole_poll=True,  # a poll's commands of all its partitions in one transaction
            ),
        )


def expirar_retenciones(
    service: CuentasService, interval: float, hold_created: asyncio.Event
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """The expiry task: the holds whose vence has passed end as EXPIRADA, at their vence (it sleeps until the next
    one is due, at most `interval` s, and wakes when this process creates a hold, which may be due sooner). Both
    instances run it; the row locks and the conditional UPDATE make each hold expire once
    (CuentasService.expirar_vencidas)."""

    async def loop(stop: asyncio.Event) -> None:
        while not stop.is_set():
            hold_created.clear()  # before the look: a hold created from here on wakes the next sleep
            await service.expirar_vencidas()
            espera = espera_de_expiracion(await service.proximo_vencimiento(), utcnow(), interval)
            await sleep_or_stop(stop, espera, hold_created)

    return loop


@asynccontextmanager
async def running(settings: CuentasSettings) -> AsyncIterator[Resources]:
    """The database (created and migrated), its pools, the Kafka link and (with run_workers) the relay and the
    consumers; closed in reverse order."""
    started = time.monotonic()
    target = db.Database(
        settings.mysql_host, settings.mysql_port, settings.mysql_user, settings.mysql_password, settings.mysql_database
    )
    await db.ensure_database(target)
    # Three pools, so that no kind of work can starve another: a burst of requests waiting on a hot account's row
    # lock must neither stall the saga's commands nor make /health time out (HAProxy would then take the instance
    # out of rotation exactly when it is busiest). The relay and each consumer hold at most one connection at a time.
    async with (
        _pool(target, settings.pool_size) as api_pool,
        _pool(target, 3 + settings.command_consumers) as worker_pool,
        _pool(target, 1) as health_pool,
        # Kafka is not awaited: the API serves from the database (writes land in the outbox) while the broker is
        # away, and the relay and consumers start once it answers.
        KafkaLink(settings.kafka_bootstrap, client_id=settings.instance) as link,
        Workers() as workers,
    ):
        await db.migrate(api_pool)
        outbox_written = asyncio.Event()  # set after each commit with events: the relay publishes at once
        hold_created = asyncio.Event()  # set after each new hold: the expiry task looks again for the next vence
        if settings.run_workers:
            _start_workers(workers, settings, worker_pool, link, outbox_written, hold_created)
        log.info("%s ready in %.1fs (database, migrations)", settings.instance, time.monotonic() - started)
        watching = metrics.watch_outbox("cuentas", lambda: outbox_backlog(api_pool))
        with watching if settings.run_workers else nullcontext():
            yield Resources(
                service=CuentasService(api_pool, on_events=outbox_written.set, on_hold=hold_created.set),
                probes={"database": lambda: db.ping(health_pool), "kafka": link.probe},
            )


def create_app(settings: CuentasSettings | None = None, resources: Resources | None = None) -> FastAPI:
    settings = settings or CuentasSettings()

    def state(res: Resources) -> State:
        return State(settings=settings, probes=res.probes, service=res.service)

    return create_service_app(
        settings,
        title="Cloud Bank — cuentas (MS2)",
        description="Account types, accounts, balances and their ledger. Money as decimal strings.",
        lifespan=service_lifespan(state, resources, lambda: running(settings)),
        routers=[router],
        policy=policy.CUENTAS,
    )
