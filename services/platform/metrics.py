"""Prometheus metrics of one process (a service or the lake sink): what it counts, what it samples at scrape time
(consumer lag, outbox backlog), and the /metrics route or listener that exposes them.

Who may read /metrics: anyone who reaches the process's own port, without a token (services.platform.guard lists it
as public), like /health. Those ports are internal (127.0.0.1 natively, the compose network in docker-compose); the
web gateway answers its own /metrics with 404 and never forwards a service's, and the console reads the aggregated
operator view (services.platform.ops_view) through analytics' GET /operaciones, which needs a role.

Every series carries `service` and `instance` (<SERVICE>_INSTANCE, else the service's name), so two instances of
one service scraped side by side stay apart.
"""

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consumers import dlq
from services.platform.guard import _route as matched_route

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
SAMPLE_TIMEOUT = 1.5  # seconds one sampler may take during a scrape; a slow dependency must not stall the scrape
UNMATCHED = "<unmatched>"  # the route label of a path no route answers: raw paths would be unbounded cardinality

_ID = ["service", "instance"]
HTTP_REQUESTS = Counter(
    "cloudbank_http_requests",
    "HTTP requests answered, by route template and status.",
    [*_ID, "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "cloudbank_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    [*_ID, "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IDEMPOTENT_REPLAYS = Counter(
    "cloudbank_idempotency_replays", "Writes answered again from their Idempotency-Key record.", [*_ID, "route"]
)
CONSUMER_LAG = Gauge(
    "cloudbank_consumer_lag",
    "Records not yet read: end offset (last stable, read_committed) minus the consumer's position.",
    [*_ID, "group", "topic", "partition"],
)
OUTBOX_BACKLOG = Gauge("cloudbank_outbox_backlog", "Events written but not yet published to Kafka.", [*_ID, "outbox"])
OUTBOX_AGE = Gauge(
    "cloudbank_outbox_oldest_age_seconds", "Age of the oldest unpublished event (0 when none waits).", [*_ID, "outbox"]
)
DEAD_LETTERED = Counter(
    "cloudbank_dead_lettered", "Records written to a dead-letter topic by this process.", [*_ID, "group", "topic"]
)
SAGA_DURATION = Histogram(
    "cloudbank_saga_duration_seconds",
    "From a transaction's creation to its final state, by outcome (COMPLETADA, FALLIDA, CANCELADA).",
    [*_ID, "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
LAKE_FILES = Counter("cloudbank_lake_files_written", "Parquet files the lake sink wrote.", _ID)
LAKE_ROWS = Counter("cloudbank_lake_rows_written", "Rows the lake sink wrote to Parquet.", _ID)
SAMPLE_ERRORS = Counter(
    "cloudbank_metrics_sample_errors", "Scrape-time samplers that failed or timed out.", [*_ID, "sampler"]
)


@dataclass
class _Identity:
    service: str = "cloudbank"
    instance: str = "cloudbank"


_identity = _Identity()


def identify(service: str) -> tuple[str, str]:
    """Name this process's series: `service`, instance from <SERVICE>_INSTANCE (else the service's name)."""
    _identity.service = service
    _identity.instance = os.environ.get(f"{service.upper()}_INSTANCE") or service
    return ids()


def ids() -> tuple[str, str]:
    """(service, instance): the first two label values of every series."""
    return _identity.service, _identity.instance


Sampler = Callable[[], Awaitable[None]]


@dataclass
class _Samplers:
    """What runs at each scrape: sampled then, not on a timer, so an idle process costs nothing."""

    by_name: dict[str, Sampler] = field(default_factory=dict)

    @contextmanager
    def active(self, name: str, sampler: Sampler, on_exit: Callable[[], None] | None = None) -> Iterator[None]:
        self.by_name[name] = sampler
        try:
            yield
        finally:
            if self.by_name.get(name) is sampler:
                del self.by_name[name]
            if on_exit is not None:
                on_exit()

    async def run(self) -> None:
        async def one(name: str, sampler: Sampler) -> None:
            try:
                await asyncio.wait_for(sampler(), SAMPLE_TIMEOUT)
            except Exception as exc:  # the last value stays: a scrape still answers with what is known
                SAMPLE_ERRORS.labels(*ids(), name).inc()
                log.debug("metrics sampler %s failed: %r", name, exc)

        await asyncio.gather(*(one(n, s) for n, s in list(self.by_name.items())))


SAMPLERS = _Samplers()


async def exposition() -> bytes:
    """Run the samplers, then the text exposition of every series of this process."""
    await SAMPLERS.run()
    return bytes(generate_latest())


# -- what is sampled ------------------------------------------------------------------------------------------------


async def consumer_lag(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """Per assigned partition, end offset minus position: one ListOffsets round trip for all of them; a partition
    whose position is not known yet (just assigned) is left out."""
    assigned = list(consumer.assignment())
    if not assigned:
        return {}
    ends = await consumer.end_offsets(assigned)
    lags: dict[TopicPartition, int] = {}
    for tp in assigned:
        try:
            position = await consumer.position(tp)
        except Exception:  # revoked meanwhile (a rebalance)
            continue
        if tp in ends:
            lags[tp] = max(0, ends[tp] - position)
    return lags


@contextmanager
def watch_consumer(group: str, consumer: AIOKafkaConsumer) -> Iterator[None]:
    """While inside, every scrape reports `group`'s lag on each partition `consumer` holds; a partition it no longer
    holds (rebalanced to another instance) stops being reported, and so do all of them on exit."""
    shown: set[tuple[str, int]] = set()

    def forget(keep: set[tuple[str, int]]) -> None:
        for topic, partition in shown - keep:
            _remove(CONSUMER_LAG, *ids(), group, topic, str(partition))
        shown.intersection_update(keep)

    async def sample() -> None:
        lags = await consumer_lag(consumer)
        for tp, lag in lags.items():
            CONSUMER_LAG.labels(*ids(), group, tp.topic, str(tp.partition)).set(lag)
        now = {(tp.topic, tp.partition) for tp in lags}
        forget(now)
        shown.update(now)

    with SAMPLERS.active(f"lag:{group}:{id(consumer)}", sample, on_exit=lambda: forget(set())):
        yield


Backlog = Callable[[], Awaitable[tuple[int, float]]]
"""An outbox's (unpublished events, age in seconds of the oldest of them or 0)."""


@contextmanager
def watch_outbox(name: str, backlog: Backlog) -> Iterator[None]:
    """While inside, every scrape reports outbox `name`'s backlog and the age of its oldest event."""

    async def sample() -> None:
        count, age = await backlog()
        OUTBOX_BACKLOG.labels(*ids(), name).set(count)
        OUTBOX_AGE.labels(*ids(), name).set(age)

    def forget() -> None:
        _remove(OUTBOX_BACKLOG, *ids(), name)
        _remove(OUTBOX_AGE, *ids(), name)

    with SAMPLERS.active(f"outbox:{name}", sample, on_exit=forget):
        yield


class LakeCounts(Protocol):
    files_written: int
    rows_written: int


@contextmanager
def watch_lake(sink: LakeCounts) -> Iterator[None]:
    """While inside, every scrape adds what `sink` wrote since the last one to the lake's files/rows counters."""
    last = [sink.files_written, sink.rows_written]

    def count() -> None:
        files, rows = sink.files_written, sink.rows_written
        LAKE_FILES.labels(*ids()).inc(max(0, files - last[0]))
        LAKE_ROWS.labels(*ids()).inc(max(0, rows - last[1]))
        last[:] = [files, rows]

    async def sample() -> None:
        count()

    # on exit too: what a sink wrote before a restart (a new sink counts from 0 again) is not lost
    with SAMPLERS.active("lake", sample, on_exit=count):
        yield


def _remove(metric: Gauge, *labels: str) -> None:
    with suppress(KeyError):
        metric.remove(*labels)


def dead_lettered(group: str, topic: str) -> None:
    DEAD_LETTERED.labels(*ids(), group, topic).inc()


dlq.OBSERVERS.append(dead_lettered)


def saga_finished(outcome: str, seconds: float) -> None:
    SAGA_DURATION.labels(*ids(), outcome).observe(max(0.0, seconds))


# -- HTTP -----------------------------------------------------------------------------------------------------------


class HttpMetrics:
    """Pure ASGI, outermost: counts every answer (the guard's 401/403 too) by route template, never the raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering
        replayed = False

        async def sending(message: Message) -> None:
            nonlocal status, replayed
            if message["type"] == "http.response.start":
                status = int(message["status"])
                replayed = any(k.lower() == b"idempotent-replayed" and v == b"true" for k, v in message["headers"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = route_template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(*ids(), method, route, str(status)).inc()
            HTTP_DURATION.labels(*ids(), method, route).observe(time.perf_counter() - started)
            if replayed:
                IDEMPOTENT_REPLAYS.labels(*ids(), route).inc()


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (Starlette/FastAPI leave it in the scope), e.g.
    /clientes/{cliente_id}; the guard's answers come before routing, so it is looked up then."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    if isinstance(app, FastAPI):
        found = matched_route(app, scope)  # the guard's own matcher
        if found is not None:
            return found[0]
    return UNMATCHED


def install(app: FastAPI, service: str) -> None:
    """The one call from services.platform.service_app: name the series, count requests, serve GET /metrics."""
    identify(service)
    app.add_middleware(HttpMetrics)

    @app.get(METRICS_PATH, tags=["health"], include_in_schema=False)
    async def metrics(_: Request) -> Response:
        """Prometheus text exposition of this process (public on the service's internal port; see module doc)."""
        return Response(await exposition(), media_type=CONTENT_TYPE_LATEST)


# -- a listener for a process without an HTTP app (the lake sink) ---------------------------------------------------


async def serve(host: str, port: int, stop: asyncio.Event) -> None:
    """GET /metrics on host:port until `stop`: a tiny HTTP/1.1 answer per connection (no framework needed)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            path = request_line[1].split("?", 1)[0] if len(request_line) > 1 else ""
            if request_line[:1] == ["GET"] and path == METRICS_PATH:
                status, kind, body = "200 OK", CONTENT_TYPE_LATEST, await exposition()
            elif request_line[:1] == ["GET"] and path == "/health":
                status, kind, body = "200 OK", "application/json", b'{"status":"healthy"}\n'
            else:
                status, kind, body = "404 Not Found", "text/plain", b"not found\n"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    try:
        server = await asyncio.start_server(answer, host, port)
    except OSError as exc:  # the port taken (another instance without its own LAKE_METRICS_PORT): run unscraped
        log.warning("metrics listener on %s:%d not started: %s", host, port, exc)
        return
    log.info("metrics on http://%s:%d%s", host, port, METRICS_PATH)
    async with server:
        await stop.wait()
