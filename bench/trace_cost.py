"""CPU cost of tracing per transfer: the CPU time of one span (start, attributes, end, batch export to the JSON-lines
file) times the spans a transfer makes, against the no-op tracer (tracing off). python -m bench.trace_cost [spans]"""

import sys
import tempfile
import time
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import NoOpTracer, SpanKind, Tracer

from services.platform.telemetry import JsonLinesExporter

ATTRS = {
    "messaging.system": "kafka",
    "messaging.destination.name": "bank.cuentas.comandos.v1",
    "messaging.kafka.message.key": "12345",
    "messaging.message.id": "0b6f5c1e-3c0e-4a5e-9d61-1f0c2a7f9e11",
    "bank.correlation_id": "TRX6b131b2566cb706a07ec870f",
}


def per_span(tracer: Tracer, n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        with tracer.start_as_current_span("process bank.cuentas.comandos.v1", kind=SpanKind.CONSUMER, attributes=ATTRS):
            pass
    return (time.process_time() - started) / n


def main() -> None:
    spans_per_transfer = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    n = 20_000
    with tempfile.TemporaryDirectory() as folder:
        provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
        processor = BatchSpanProcessor(JsonLinesExporter(Path(folder) / "bench.jsonl"))
        provider.add_span_processor(processor)
        on = per_span(provider.get_tracer("bench"), n)
        started = time.process_time()
        provider.shutdown()  # the export of what is still queued counts too
        on += (time.process_time() - started) / n
    off = per_span(NoOpTracer(), n)
    print(f"per span: {on * 1e6:.1f} µs CPU traced, {off * 1e6:.2f} µs off")
    print(
        f"per transfer ({spans_per_transfer} spans): {on * spans_per_transfer * 1e3:.2f} ms CPU traced, "
        f"{off * spans_per_transfer * 1e3:.3f} ms off"
    )


if __name__ == "__main__":
    main()
