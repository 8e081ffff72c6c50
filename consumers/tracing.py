"""Consumer spans: each traced message handled gets a span continuing the trace its ce_traceparent names, and what
it causes carries that span's context on (contracts.tracecontext)."""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from consumers.handler import Delivery
from contracts import tracecontext
from contracts.envelope import TRACEPARENT_HEADER, TRACESTATE_HEADER

_PROPAGATOR = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("cloudbank.kafka")


def headers_of(span: Span, came: tracecontext.TraceHeaders = (None, None)) -> tracecontext.TraceHeaders:
    """A span's own W3C trace context, as the next hop's traceparent/tracestate (what `came` with the message when
    tracing is off in this process: the trace goes on past it)."""
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return came
    state = ctx.trace_state.to_header() if ctx.trace_state else None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}", state or None


def parent_of(traceparent: str, tracestate: str | None) -> otel_context.Context:
    carrier = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    return _PROPAGATOR.extract(carrier)


def _start(name: str, traceparent: str, tracestate: str | None, attributes: dict[str, Any]) -> Span:
    return _tracer.start_span(
        name, context=parent_of(traceparent, tracestate), kind=SpanKind.CONSUMER, attributes=attributes
    )


@contextmanager
def _spans(started: Sequence[tuple[str, Span, tracecontext.TraceHeaders]]) -> Iterator[None]:
    """Keeps the spans open while the body runs (the only one current when it is alone) and ends them after, marked
    failed when the body raised."""
    if not started:
        yield
        return
    with ExitStack() as stack:
        stack.enter_context(
            tracecontext.caused_by({event_id: headers_of(span, came) for event_id, span, came in started})
        )
        if len(started) == 1:
            stack.enter_context(trace.use_span(started[0][1], end_on_exit=False))
        try:
            yield
        except BaseException as exc:
            for _, span, _ in started:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            for _, span, _ in started:
                span.end()


def handling(deliveries: Sequence[Delivery], group: str) -> Any:
    """Spans for ConsumerLoop's deliveries (only the traced ones: an untraced event starts no trace here)."""
    started = [
        (
            d.envelope.id,
            _start(
                f"process {d.topic}",
                d.envelope.traceparent or "",
                d.envelope.tracestate,
                {
                    "messaging.system": "kafka",
                    "messaging.operation.type": "process",
                    "messaging.destination.name": d.topic,
                    "messaging.destination.partition.id": str(d.partition),
                    "messaging.kafka.offset": d.offset,
                    "messaging.kafka.message.key": d.envelope.subject,
                    "messaging.message.id": d.envelope.id,
                    "messaging.consumer.group.name": group,
                    "cloudevents.event_type": d.envelope.type,
                    "bank.correlation_id": d.envelope.correlation_id,
                },
            ),
            (d.envelope.traceparent, d.envelope.tracestate),
        )
        for d in deliveries
        if d.envelope.traceparent
    ]
    return _spans(started)


def _header(headers: Iterable[tuple[str, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode(errors="replace")
    return None


def received(records: Iterable[Any], group: str) -> None:
    """Instant spans marking that traced records arrived (the lake: their writing is a later, batched flush)."""
    with receiving(records, group):
        pass


def receiving(records: Iterable[Any], group: str) -> Any:
    """Spans for raw Kafka records a projection or the lake takes in (no Delivery there), again only traced ones."""
    started = []
    for record in records:
        headers = list(record.headers or ())
        traceparent = _header(headers, TRACEPARENT_HEADER)
        if not traceparent:
            continue
        event_id = _header(headers, "ce_id") or ""
        tracestate = _header(headers, TRACESTATE_HEADER)
        span = _start(
            f"process {record.topic}",
            traceparent,
            tracestate,
            {
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.kafka.message.key": (record.key or b"").decode(errors="replace"),
                "messaging.message.id": event_id,
                "messaging.consumer.group.name": group,
                "cloudevents.event_type": _header(headers, "ce_type") or "",
                # ce_correlationid: the extension attribute; correlation_id: the older plain header
                "bank.correlation_id": _header(headers, "ce_correlationid") or _header(headers, "correlation_id") or "",
            },
        )
        started.append((event_id, span, (traceparent, tracestate)))
    return _spans(started)
