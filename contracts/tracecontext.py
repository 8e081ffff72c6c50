"""W3C trace context for the events we write: the CloudEvents distributed-tracing extension's values, taken from the
span that causes an event (the request's, or the consumer span of the message that caused it)."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TraceHeaders = tuple[str | None, str | None]  # (traceparent, tracestate)

_PROPAGATOR = TraceContextTextMapPropagator()
# A batch handler has no single current span: the consumer span of each message in hand, by its ce_id, so what a
# message causes (causation_id = its id) continues that message's trace. Process-wide, not a ContextVar: the
# events may be written by another task (transacciones' document writer) while the handler awaits it.
_BY_CAUSE: dict[str, TraceHeaders] = {}


def current(causation_id: str | None = None) -> TraceHeaders:
    """The traceparent/tracestate an event caused by `causation_id` (or by the current span) carries."""
    if causation_id is not None and _BY_CAUSE:
        found = _BY_CAUSE.get(causation_id)
        if found is not None:
            return found
    if not trace.get_current_span().get_span_context().is_valid:
        return None, None  # tracing off, or work of no request: nothing to continue
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate")


@contextmanager
def caused_by(spans: Mapping[str, TraceHeaders]) -> Iterator[None]:
    """While a batch is handled: the trace context of each message by its ce_id (see `current`)."""
    _BY_CAUSE.update(spans)
    try:
        yield
    finally:
        for event_id in spans:
            _BY_CAUSE.pop(event_id, None)
