"""Tracing for a process: the OpenTelemetry SDK with OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set, else spans
as JSON lines in a file of this process under .run/traces (what `bank trace` reads); libraries instrumented once.

Settings (standard OTel ones where there is one): OTEL_SDK_DISABLED=true turns tracing off; OTEL_TRACES_SAMPLER /
OTEL_TRACES_SAMPLER_ARG choose the sampler (default: ours, below, with BANK_TRACE_RATIO of the requests traced;
either way a sampled-out request stays out downstream);
OTEL_BSP_* tune the batch processor; BANK_TRACE_DIR moves the local files; BANK_TRACE_DB=1 adds database spans (off by
default: 57 of a transfer's ~80 spans, ~4 ms of CPU per transfer, for queries the service spans already time).
"""

import atexit
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_INSTANCE_ID, SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
    _get_from_env_or_default,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

log = logging.getLogger(__name__)

DEFAULT_TRACE_DIR = ".run/traces"
_KINDS = {0: "internal", 1: "server", 2: "client", 3: "producer", 4: "consumer"}
_done = False


def trace_dir() -> Path:
    return Path(os.environ.get("BANK_TRACE_DIR", DEFAULT_TRACE_DIR))


def enabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "").lower() != "true"


def span_line(span: ReadableSpan) -> dict[str, Any]:
    """One span as the JSON line `bank trace` reads (ids in the W3C hex forms, times in ns since the epoch)."""
    ctx = span.get_span_context()
    resource = span.resource.attributes
    return {
        "trace_id": f"{ctx.trace_id:032x}" if ctx else "",
        "span_id": f"{ctx.span_id:016x}" if ctx else "",
        "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "name": span.name,
        "kind": _KINDS.get(span.kind.value, str(span.kind.value)),
        "service": resource.get(SERVICE_NAME),
        "instance": resource.get(SERVICE_INSTANCE_ID),
        "start": span.start_time,
        "end": span.end_time,
        "status": span.status.status_code.name.lower(),
        "attributes": dict(span.attributes or {}),
    }


class JsonLinesExporter(SpanExporter):
    """Appends each batch of spans to this process's own file (one writer per file: lines never interleave)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        data = b"".join(orjson.dumps(span_line(s), default=str) + b"\n" for s in spans)
        try:
            with self._lock, self._path.open("ab") as out:
                out.write(data)
        except OSError as exc:
            log.warning("trace file %s: %s", self._path, exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _exporter(instance: str) -> SpanExporter:
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint, headers, timeout from the standard OTEL_EXPORTER_OTLP_* variables
    return JsonLinesExporter(trace_dir() / f"{instance}.jsonl")


class RequestRoots(Sampler):
    """Traces start at requests only (a `ratio` of them): a span with no parent that is not a server span (the
    relays' and pollers' queries every few ms, a key fetch) would be a one-span trace nobody asked for, at a cost."""

    def __init__(self, ratio: float) -> None:
        self._requests = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind != SpanKind.SERVER:
            return SamplingResult(Decision.DROP)
        return self._requests.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"RequestRoots{{{self._requests.get_description()}}}"


def sampler() -> Sampler:
    """The standard OTEL_TRACES_SAMPLER when one is set; else parent-based with traces rooted at requests."""
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return _get_from_env_or_default()
    return ParentBased(root=RequestRoots(float(os.environ.get("BANK_TRACE_RATIO", "1.0"))))


def instance_name(service: str) -> str:
    """This process's instance: <SERVICE>_INSTANCE (as the supervisor config sets it), else the service name."""
    return os.environ.get(f"{service.upper()}_INSTANCE") or service


def setup(service: str, instance: str | None = None) -> None:
    """Install the tracer provider of this process (once) and instrument the client libraries."""
    global _done
    if _done or not enabled():
        return
    _done = True
    instance = instance or instance_name(service)
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service, SERVICE_INSTANCE_ID: instance}), sampler=sampler()
    )
    # The local file needs no 5 s batching delay (the SDK's default): a second keeps `bank trace` current.
    delay = int(os.environ.get("OTEL_BSP_SCHEDULE_DELAY", "1000"))
    provider.add_span_processor(BatchSpanProcessor(_exporter(instance), schedule_delay_millis=delay))
    trace.set_tracer_provider(provider)
    atexit.register(provider.shutdown)  # the last spans reach the file / collector on a clean stop
    _instrument_libraries()


def _instrument_libraries() -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument()
    if os.environ.get("BANK_TRACE_DB", "0") != "1":
        return  # database spans cost ~70 us of CPU each, 57 per transfer (bench.trace_cost): opt-in
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
    PymongoInstrumentor().instrument()
    # aiomysql (cuentas): no OpenTelemetry instrumentation is published for it; its work shows in cuentas' spans.


def instrument_app(app: Any) -> None:
    """Server spans for a FastAPI app (not for /health: probes every few seconds would bury the traces)."""
    if not enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,metrics", exclude_spans=["receive", "send"])


def observe(app: Any) -> None:
    """What every service app gets: request ids and access lines (services.platform.logs) and server spans."""
    from services.platform.logs import RequestLog

    app.add_middleware(RequestLog)  # added last: outermost, so even the error answers carry the request id
    instrument_app(app)


def start_process(service: str) -> str:
    """A process's logs and tracing, first thing at start-up; returns its instance name."""
    from services.platform import logs

    instance = instance_name(service)
    logs.setup(instance)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    setup(service, instance)
    return instance
