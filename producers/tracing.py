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


def _child(topic: str, traceparent: str, tracestate: str | None, rows: Sequence[OutboxRow]) -> tuple[Span, Pairs]:
    """The producer span of `rows` (one topic, one trace context) and the trace headers its records carry."""
    carrier = {"traceparent": traceparent, **({"tracestate": tracestate} if tracestate else {})}
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "send",
        "messaging.destination.name": topic,
    }
    if len(rows) == 1:
        attributes |= {"messaging.kafka.message.key": rows[0].key, "messaging.message.id": rows[0].event_id}
    else:
        attributes["messaging.batch.message_count"] = len(rows)
    span = _tracer.start_span(
        f"send {topic}", context=_PROPAGATOR.extract(carrier), kind=SpanKind.PRODUCER, attributes=attributes
    )
    out: dict[str, str] = {}
    _PROPAGATOR.inject(out, context=trace.set_span_in_context(span))
    if "traceparent" not in out:  # tracing off in this process: the records carry the trace on as it came
        return span, []
    pairs = [(TRACEPARENT_HEADER, out["traceparent"])]
    if "tracestate" in out:
        pairs.append((TRACESTATE_HEADER, out["tracestate"]))
    return span, pairs


def _with_trace(row: OutboxRow, pairs: Pairs) -> Pairs:
    if not pairs:
        return row.headers
    return [(k, v) for k, v in row.headers if k not in (TRACEPARENT_HEADER, TRACESTATE_HEADER)] + pairs


@contextmanager
def sending(rows: Sequence[OutboxRow]) -> Iterator[list[Pairs]]:
    """Each row's headers to send (a traced row's with its producer span's context); the spans end on the way out.
    One span per topic and trace context, as consumers/tracing.py does: the hundreds of events of a batch request
    share their request's context, and a span each cost more than sending them."""
    groups: dict[tuple[str, str, str | None], list[int]] = {}
    for i, row in enumerate(rows):
        traceparent, tracestate = _traced(row)
        if traceparent is not None:
            groups.setdefault((row.topic, traceparent, tracestate), []).append(i)
    spans: list[Span] = []
    headers = [row.headers for row in rows]
    for (topic, traceparent, tracestate), members in groups.items():
        span, pairs = _child(topic, traceparent, tracestate, [rows[i] for i in members])
        spans.append(span)
        for i in members:
            headers[i] = _with_trace(rows[i], pairs)
    try:
        yield headers
    except BaseException as exc:
        for span in spans:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        for span in spans:
            span.end()
