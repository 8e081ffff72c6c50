"""Wiring of the transacciones process: Mongo + beanie, the writer, and (with run_workers) the outbox relay,
the saga orchestrator consumer and the sweeper. Nothing connects at import time."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from beanie import init_beanie
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from contracts import topics
from contracts.envelope import Envelope
from services.platform import metrics, policy
from services.platform.health import Probes
from services.platform.kafka_link import KafkaLink
from services.platform.service_app import create_service_app, service_lifespan
from services.platform.workers import Workers
from services.transacciones import api, cambio_api
from services.transacciones.cambios import Cambios
from services.transacciones.cotizaciones import Cotizaciones
from services.transacciones.dependencies import State, Stats
from services.transacciones.listing import LIST_FIELDS, Listado
from services.transacciones.listing_feed import ListingFeed
from services.transacciones.membership import membership
from services.transacciones.orchestrator import Orquestador, group_id
from services.transacciones.outbox import DocumentOutbox
from services.transacciones.ownership import Ownership
from services.transacciones.propietarios import CONSUMER as PROPIETARIOS
from services.transacciones.propietarios import Propietarios
from services.transacciones.recientes import Recientes
from services.transacciones.replay import replay_until_done
from services.transacciones.replica_lag import ReplicaCatchUp
from services.transacciones.repository import (
    MongoRepository,
    TransaccionDocument,
    detect_money_bson,
    ensure_indexes,
)
from services.transacciones.reversion_store import MongoReversiones
from services.transacciones.saga_metrics import SagaMetrics
from services.transacciones.service import Finales, TransaccionesService
from services.transacciones.settings import TransaccionesSettings
from services.transacciones.sweeper import Sweeper
from services.transacciones.tipos_cambio import TiposCambio
from services.transacciones.writer import DocumentWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    """What the app serves from: opened by `running`, or passed (already open) by a test."""

    service: TransaccionesService
    probes: Probes
    stats: Stats
    propietarios: Propietarios
    cambios: Cambios


@asynccontextmanager
async def _mongo(settings: TransaccionesSettings) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_url, tz_aware=True, tzinfo=UTC, serverSelectionTimeoutMS=5000, appname="transacciones"
    )
    try:
        yield client
    finally:
        await client.close()


@asynccontextmanager
async def running(settings: TransaccionesSettings) -> AsyncIterator[Resources]:
    """Mongo (indexed), the writer, the listing index and (with run_workers) recovery, the relay, the saga
    consumer and the sweeper; closed in reverse order."""
    async with (
        _mongo(settings) as client,
        # Kafka is not awaited: requests are served from Mongo (the outbox fills) while the broker is away; the
        # relay and the saga consumer start once it answers.
        KafkaLink(settings.kafka_bootstrap, client_id=settings.instance) as link,
        aclosing(ReplicaCatchUp(settings.kafka_bootstrap, PROPIETARIOS, topics.CUENTAS)) as catch_up,
        Workers() as workers,
    ):
        db = client[settings.database]
        await init_beanie(database=db, document_models=[TransaccionDocument], skip_indexes=True)
        money = settings.money_bson if settings.money_bson != "auto" else await detect_money_bson(db)
        indexed = settings.secondary_indexes == "on" or (settings.secondary_indexes == "auto" and money != "string")
        if changed := await ensure_indexes(db, wanted=indexed):
            log.info(
                "archive indexes %s: %s", "created" if indexed else "dropped (never read here)", ", ".join(changed)
            )
        # A miss waits for the fold only where the replica's consumer group runs (a process without workers: none).
        propietarios = Propietarios(db, catch_up if settings.run_workers else None)
        await propietarios.ensure_index(wanted=indexed)
        reversiones = MongoReversiones(db)
        await reversiones.ensure_index(wanted=indexed)
        tipos_cambio = TiposCambio(db)
        cambios = Cambios(tipos_cambio, Cotizaciones(db), propietarios, settings.cotizacion_seconds)
        await cambios.tabla_inicial()  # a new bank quotes out of the box (README "FX transfers")
        # Without workers nothing joins the group: the process owns every saga (a test app on its own database).
        ownership = Ownership(
            db,
            instance=settings.instance,
            partitions=topics.PARTITIONS[topics.TRANSACCIONES],
            solo=not settings.run_workers,
            grace=settings.fence_grace_seconds,
            check_ttl=settings.fence_check_seconds,
            url=settings.advertised_url,
        )
        writer = DocumentWriter(
            MongoRepository(db, money), batch=settings.write_batch, cache_size=settings.cache_documents, fence=ownership
        )
        outbox = DocumentOutbox(writer, fold_seconds=settings.publish_ack_fold_seconds)
        finales = Finales()
        writer.subscribe(finales.on_written)
        writer.subscribe(SagaMetrics().on_written)
        listado: Listado | None = None
        if settings.list_index == "on" or (settings.list_index == "auto" and money == "string"):
            listado = Listado()
            writer.subscribe(listado.on_written)  # before recovery adopts documents, so none is missed
        recientes = Recientes()
        writer.subscribe(recientes.on_written)
        service = TransaccionesService(
            writer,
            outbox,
            finales,
            settings.wait_seconds,
            listado,
            ownership,
            reversiones=reversiones,
            cambios=cambios,
            recientes=recientes,
        )
        sweeper = Sweeper(
            service,
            stuck_after=settings.stuck_after_seconds,
            max_interval=settings.max_resend_interval_seconds,
            interval=settings.sweep_interval_seconds,
            recovery_interval=settings.recovery_interval_seconds,
        )
        workers.spawn("writer", writer.run)
        if listado is not None:
            index = listado
            feed = ListingFeed(index)
            if settings.run_workers:
                # What the other instances write reaches this index as their events.
                workers.spawn("listing-feed", feed.loop(link, settings.kafka_bootstrap, settings.instance))
                service.al_dia = feed.caught_up
            else:
                feed.placed.set()

            async def build(stop: asyncio.Event) -> None:
                await feed.wait_placed()  # the tail first, so nothing written after the scan's snapshot is missed
                await index.build(lambda: writer.repo.list_scans(LIST_FIELDS), stop)

            workers.spawn("listing-index", build)
        ownership.on_lost(lambda partitions: sweeper.drop(writer.drop(partitions)))

        orquestador = Orquestador(service)
        replayed = [0]

        async def adopt(taken: set[int], held: set[int]) -> None:
            """Taken over: the durable state of those sagas, then the replies they may have missed (replay.py)."""
            if not taken:
                return
            await sweeper.recover(taken)
            docs = [writer.latest(i) for i in sweeper.tracked() if ownership.partition(i) in taken]
            oldest = min((d.fecha for d in docs if d is not None), default=None)
            if oldest is None:
                return

            async def handle(envelopes: list[Envelope]) -> None:
                replayed[0] += await orquestador.apply(envelopes, taken)

            read = await replay_until_done(settings.kafka_bootstrap, f"{settings.instance}-replay", oldest, handle)
            log.info("took over %d sagas in progress; %d cuentas records read again since %s", len(docs), read, oldest)

        ownership.on_acquired(adopt)
        if settings.run_workers:
            await sweeper.recover()  # owns nothing yet: only a single-instance (solo) process adopts here
            workers.spawn("outbox-relay", link.relay(outbox, batch_size=settings.relay_batch, idle_sleep=0.0))
            # Rate changes are rare: a relay that looks for unpublished table versions twice a second, on the one
            # instance that holds saga partition 0 (during a hand-over both may: the event is at-least-once anyway).
            tipos_cambio.turno = lambda: ownership.epoch(0) is not None
            workers.spawn("tipos-cambio-relay", link.relay(tipos_cambio, batch_size=100, idle_sleep=0.5))
            workers.spawn("saga-ownership", membership(link, settings.kafka_bootstrap, ownership, settings.instance))
            # Replies only meet in the writer: each partition's batch shares its next round.
            saga = link.consumer(group_id(settings.instance), [topics.CUENTAS], orquestador, parallel_partitions=True)
            workers.spawn("saga", saga)
            # The replica of account owners (propietarios.py) that confines a customer to their own accounts. A bulk
            # reader: it folds only openings, yet fetched on every one of the ~4 cuentas events of each transfer.
            workers.spawn(PROPIETARIOS, link.consumer(PROPIETARIOS, [topics.CUENTAS], propietarios, bulk=True))
            workers.spawn("sweeper", sweeper.run)
            workers.spawn("recovery", sweeper.run_recovery)

        def stats() -> dict[str, Any]:
            return {
                "writer_rounds": writer.rounds,
                "writes": writer.writes,
                "states_kept_in_memory": writer.kept,
                "replies_ahead_of_their_saga": len(service.adelantadas),
                "store_seconds": {k: round(v, 3) for k, v in writer.seconds.items()},
                "events_published": outbox.published,
                "publish_seconds": round(outbox.publish_seconds, 3),
                "relay_backlog": outbox.backlog,
                "sagas_in_progress": sweeper.in_progress,
                "resent": sweeper.resent,
                "money_bson": money,
                "instance": settings.instance,
                "partitions": {str(p): e for p, e in sorted(ownership.epochs.items())},
                "rebalances": ownership.rebalances,
                "fenced": ownership.fenced,
                "replies_replayed": replayed[0],
                "listing_index": None if listado is None else {"ready": listado.ready, "transactions": len(listado)},
                "lists_read_your_writes": service.read_your_writes,
            }

        async def outbox_backlog() -> tuple[int, float]:
            return outbox.backlog, outbox.oldest_pending_age()

        async def sagas() -> None:
            """Ready once it holds a partition of the sagas: until then a POST here could only wait and fail (a
            restarted instance is back in the group seconds after it answers HTTP). With Kafka away there is no
            group to wait for, and "kafka" already reports that."""
            if ownership.epochs:
                return
            try:
                await link.probe()
            except Exception:
                return
            raise RuntimeError("holds no partition of the sagas yet")

        with metrics.watch_outbox("transacciones", outbox_backlog):
            yield Resources(
                service=service,
                probes={"database": writer.repo.ping, "kafka": link.probe, "sagas": sagas},
                stats=stats,
                propietarios=propietarios,
                cambios=cambios,
            )


def create_app(settings: TransaccionesSettings | None = None, resources: Resources | None = None) -> FastAPI:
    settings = settings or TransaccionesSettings()

    def state(res: Resources) -> State:
        return State(
            settings=settings,
            probes=res.probes,
            service=res.service,
            stats=res.stats,
            propietarios=res.propietarios,
            cambios=res.cambios,
        )

    return create_service_app(
        settings,
        title="Cloud Bank — transacciones",
        description="MS4: transactions and the orchestrated money saga.",
        lifespan=service_lifespan(state, resources, lambda: running(settings)),
        routers=[api.router, cambio_api.router, api.ops],
        policy=policy.TRANSACCIONES,
    )
