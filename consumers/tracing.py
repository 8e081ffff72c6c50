"""Consumer spans: each traced message handled gets a span continuing the trace its ce_traceparent names, and what
it causes carries that span's context on (contracts.tracecontext)."""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class _Traced:
    """One traced message about to be handled: its id, the trace context it came with and its span attributes."""

    event_id: str
    topic: str
    came: tuple[str, str | None]  # (traceparent, tracestate)
    attributes: dict[str, Any]


def _one_per_trace(traced: Iterable[_Traced]) -> list[tuple[str, Span, tracecontext.TraceHeaders]]:
    """One span per (trace context, topic): a batch request's hundreds of events share their request's context,
    and a span each cost more CPU than handling them (a third of every consumer's during `bank seed`). Such a
    span says how many messages it stands for (messaging.batch.message_count) and keeps only the attributes they
    all share; a message alone in its trace (every single POST) keeps all of its own."""
    groups: dict[tuple[str, str, str | None], list[_Traced]] = {}
    for t in traced:
        groups.setdefault((t.topic, *t.came), []).append(t)
    started: list[tuple[str, Span, tracecontext.TraceHeaders]] = []
    for (topic, traceparent, tracestate), members in groups.items():
        attributes = members[0].attributes
        if len(members) > 1:
            attributes = {k: v for k, v in attributes.items() if all(m.attributes.get(k) == v for m in members[1:])} | {
                "messaging.batch.message_count": len(members)
            }
        span = _start(f"process {topic}", traceparent, tracestate, attributes)
        started += [(m.event_id, span, m.came) for m in members]
    return started


@contextmanager
def _spans(started: Sequence[tuple[str, Span, tracecontext.TraceHeaders]]) -> Iterator[None]:
    """Keeps the spans open while the body runs (the only one current when it is alone) and ends them after, marked
    failed when the body raised."""
    if not started:
        yield
        return
    spans = list({id(span): span for _, span, _ in started}.values())
    with ExitStack() as stack:
        stack.enter_context(
            tracecontext.caused_by({event_id: headers_of(span, came) for event_id, span, came in started})
        )
        if len(spans) == 1:
            stack.enter_context(trace.use_span(spans[0], end_on_exit=False))
        try:
            yield
        except BaseException as exc:
            for span in spans:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            for span in spans:
                span.end()


def handling(deliveries: Sequence[Delivery], group: str) -> Any:
    """Spans for ConsumerLoop's deliveries (only the traced ones: an untraced event starts no trace here)."""
    traced = (
        _Traced(
            d.envelope.id,
            d.topic,
            (d.envelope.traceparent, d.envelope.tracestate),
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
        )
        for d in deliveries
        if d.envelope.traceparent
    )
    return _spans(_one_per_trace(traced))


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
    traced = []
    for record in records:
        headers = list(record.headers or ())
        traceparent = _header(headers, TRACEPARENT_HEADER)
        if not traceparent:
            continue
        event_id = _header(headers, "ce_id") or ""
        traced.append(
            _Traced(
                event_id,
                record.topic,
                (traceparent, _header(headers, TRACESTATE_HEADER)),
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
                    "bank.correlation_id": _header(headers, "ce_correlationid")
                    or _header(headers, "correlation_id")
                    or "",
                },
            )
        )
    return _spans(_one_per_trace(traced))
