"""Producer spans: a traced outbox row is published under a span that continues its trace (time in the outbox shows
as the gap before it), and the record carries that span's context to the consumers."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from contracts.envelope import TRACEPARENT_HEADER, TRACESTATE_HEADER
from producers.outbox_row import OutboxRow

_PROPAGATOR = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("cloudbank.kafka")

Pairs = list[tuple[str, str]]


def _traced(row: OutboxRow) -> tuple[str | None, str | None]:
    traceparent = tracestate = None
    for key, value in row.headers:
        if key == TRACEPARENT_HEADER:
            traceparent = value
        elif key == TRACESTATE_HEADER:
            tracestate = value
    return traceparent, tracestate


def _child(row: OutboxRow, traceparent: str, tracestate: str | None) -> tuple[Span, Pairs]:
    carrier = {"traceparent": traceparent, **({"tracestate": tracestate} if tracestate else {})}
    span = _tracer.start_span(
        f"send {row.topic}",
        context=_PROPAGATOR.extract(carrier),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.destination.name": row.topic,
            "messaging.kafka.message.key": row.key,
            "messaging.message.id": row.event_id,
        },
    )
    out: dict[str, str] = {}
    _PROPAGATOR.inject(out, context=trace.set_span_in_context(span))
    if "traceparent" not in out:  # tracing off in this process: the record carries the trace on as it came
        return span, row.headers
    headers = [(k, v) for k, v in row.headers if k not in (TRACEPARENT_HEADER, TRACESTATE_HEADER)]
    headers.append((TRACEPARENT_HEADER, out["traceparent"]))
    if "tracestate" in out:
        headers.append((TRACESTATE_HEADER, out["tracestate"]))
    return span, headers


@contextmanager
def sending(rows: Sequence[OutboxRow]) -> Iterator[list[Pairs]]:
    """Each row's headers to send (a traced row's with its producer span's context); the spans end on the way out."""
    spans: list[Span] = []
    headers: list[Pairs] = []
    for row in rows:
        traceparent, tracestate = _traced(row)
        if traceparent is None:
            headers.append(row.headers)
            continue
        span, pairs = _child(row, traceparent, tracestate)
        spans.append(span)
        headers.append(pairs)
    try:
        yield headers
    except BaseException as exc:
        for span in spans:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        for span in spans:
            span.end()
