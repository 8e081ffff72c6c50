"""The W3C trace context travels in the CloudEvents distributed-tracing extension: written from the causing span,
read back from the record, continued by consumer spans and by the relay's producer span."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

from opentelemetry import trace

from consumers import tracing as consumer_tracing
from consumers.handler import Delivery
from contracts.comandos import DebitarCuenta
from contracts.envelope import envelope_for, from_record
from producers import tracing as producer_tracing
from producers.outbox_row import OutboxRow
from tests.unit.observability.spans import recording


def _comando(n: int = 1) -> DebitarCuenta:
    return DebitarCuenta(comando_id=f"C{n}", transaccion_id=f"T{n}", cuenta_id=7, monto=Decimal("10.50"), moneda="PEN")


def _parts(traceparent: str) -> tuple[str, str, str]:
    version, trace_id, span_id, flags = traceparent.split("-")
    assert version == "00"
    assert int(flags, 16) & 1  # sampled
    return trace_id, span_id, flags


def _w3c(ctx: trace.SpanContext) -> str:
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def test_sin_span_el_evento_no_lleva_traceparent() -> None:
    recording()
    env = envelope_for(_comando(), source="/transacciones")
    assert env.traceparent is None
    assert not [k for k, _ in env.headers() if k.startswith("ce_trace")]


def test_el_evento_lleva_el_span_que_lo_causa_y_vuelve_igual_del_registro() -> None:
    recording()
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("POST /transacciones") as span:
        env = envelope_for(_comando(), source="/transacciones")
    ctx = span.get_span_context()
    assert env.traceparent == _w3c(ctx)
    headers = dict(env.headers())
    assert headers["ce_traceparent"] == env.traceparent.encode()
    back = from_record(env.topic, env.value(), env.headers())
    assert back.traceparent == env.traceparent
    assert "ce_traceparent" not in back.extra_headers  # an attribute, not an unknown header
    assert env.to_structured()["traceparent"] == env.traceparent
    assert OutboxRow.of(env).headers == [(k, v.decode()) for k, v in env.headers()]  # every outbox keeps it


def test_el_relay_envia_bajo_un_span_hijo_y_el_registro_lleva_su_contexto() -> None:
    exporter = recording()
    with trace.get_tracer("test").start_as_current_span("request") as request:
        row = OutboxRow.of(envelope_for(_comando(), source="/transacciones"))
    untraced = OutboxRow("e2", "t", "k", [("ce_id", "e2")], "{}")
    with producer_tracing.sending([row, untraced]) as headers:
        pass
    assert headers[1] == untraced.headers
    (send,) = [s for s in exporter.get_finished_spans() if s.name.startswith("send ")]
    assert send.parent is not None
    assert send.parent.span_id == request.get_span_context().span_id
    sent = dict(headers[0])
    trace_id, span_id, _ = _parts(sent["ce_traceparent"])
    assert (int(trace_id, 16), int(span_id, 16)) == (send.context.trace_id, send.context.span_id)
    assert [k for k, _ in headers[0]].count("ce_traceparent") == 1


def test_el_relay_envia_los_eventos_de_un_mismo_pedido_bajo_un_span() -> None:
    exporter = recording()
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("POST /cuentas/lote"):
        lote = [OutboxRow.of(envelope_for(_comando(n), source="/cuentas")) for n in (1, 2, 3)]
    with tracer.start_as_current_span("POST /cuentas"):
        alone = OutboxRow.of(envelope_for(_comando(4), source="/cuentas"))
    with producer_tracing.sending([*lote, alone]) as headers:
        pass
    sends = {s.parent.trace_id: s for s in exporter.get_finished_spans() if s.name.startswith("send ") and s.parent}
    assert len(sends) == 2
    shared, own = sends[_trace_of(lote[0])], sends[_trace_of(alone)]
    assert (shared.attributes or {})["messaging.batch.message_count"] == 3
    assert "messaging.message.id" not in (shared.attributes or {})
    assert (own.attributes or {})["messaging.message.id"] == alone.event_id
    assert [dict(h)["ce_traceparent"] for h in headers] == [_w3c(shared.context)] * 3 + [_w3c(own.context)]
    assert all([k for k, _ in h].count("ce_traceparent") == 1 for h in headers)


def _trace_of(row: OutboxRow) -> int:
    return int(_parts(dict(row.headers)["ce_traceparent"])[0], 16)


def _delivery(env) -> Delivery:
    return Delivery(from_record(env.topic, env.value(), env.headers()), env.topic, 0, 5)


def test_un_lote_continua_la_traza_de_cada_mensaje_y_lo_que_causa_sigue_en_ella() -> None:
    exporter = recording()
    tracer = trace.get_tracer("test")
    origins = []
    deliveries = []
    for n in (1, 2):
        with tracer.start_as_current_span(f"request {n}") as span:
            deliveries.append(_delivery(envelope_for(_comando(n), source="/transacciones")))
        origins.append(span.get_span_context())

    async def handle_batch() -> list[str | None]:
        # the replies are written by another task (as transacciones' writer does), named by their cause
        async def reply(d: Delivery) -> str | None:
            return envelope_for(_comando(9), source="/cuentas", causation_id=d.envelope.id).traceparent

        return list(await asyncio.gather(*(asyncio.create_task(reply(d)) for d in deliveries)))

    with consumer_tracing.handling(deliveries, "cuentas.comandos"):
        replies = asyncio.run(handle_batch())
    processed = sorted(
        (s for s in exporter.get_finished_spans() if s.name.startswith("process ")), key=lambda s: s.name
    )
    assert len(processed) == 2
    by_trace = {s.context.trace_id: s for s in processed}
    for origin, reply in zip(origins, replies, strict=True):
        handled = by_trace[origin.trace_id]
        assert handled.kind == trace.SpanKind.CONSUMER
        assert (handled.attributes or {})["messaging.consumer.group.name"] == "cuentas.comandos"
        assert handled.context is not None
        assert reply == _w3c(handled.context)
    # once handled, nothing is continued by id any more
    assert envelope_for(_comando(), source="/x", causation_id=deliveries[0].envelope.id).traceparent is None


def test_los_mensajes_de_un_mismo_pedido_comparten_un_span_que_dice_cuantos_son() -> None:
    exporter = recording()
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("POST /cuentas/lote") as lote:
        batch = [_delivery(envelope_for(_comando(n), source="/cuentas")) for n in (1, 2, 3)]
    with tracer.start_as_current_span("POST /cuentas") as single:
        alone = _delivery(envelope_for(_comando(4), source="/cuentas"))

    with consumer_tracing.handling([*batch, alone], "transacciones"):
        caused = [envelope_for(_comando(9), source="/x", causation_id=d.envelope.id).traceparent for d in batch]
        caused_alone = envelope_for(_comando(9), source="/x", causation_id=alone.envelope.id).traceparent
    processed = {s.context.trace_id: s for s in exporter.get_finished_spans() if s.name.startswith("process ")}
    assert len(processed) == 2
    shared = processed[lote.get_span_context().trace_id]
    attributes = shared.attributes or {}
    assert attributes["messaging.batch.message_count"] == 3
    assert attributes["messaging.consumer.group.name"] == "transacciones"
    assert "messaging.message.id" not in attributes  # differs from message to message
    assert caused == [_w3c(shared.context)] * 3  # each message's consequences continue under the shared span
    own = processed[single.get_span_context().trace_id]
    assert "messaging.batch.message_count" not in (own.attributes or {})
    assert (own.attributes or {})["messaging.message.id"] == alone.envelope.id
    assert caused_alone == _w3c(own.context)


def test_un_fallo_marca_los_spans_y_un_registro_sin_traza_no_abre_ninguno() -> None:
    exporter = recording()
    with trace.get_tracer("test").start_as_current_span("request"):
        env = envelope_for(_comando(), source="/transacciones")
    raw = SimpleNamespace(topic=env.topic, partition=1, offset=3, key=env.key, headers=env.headers())
    bare = SimpleNamespace(topic=env.topic, partition=1, offset=4, key=env.key, headers=[("ce_id", b"x")])
    try:
        with consumer_tracing.receiving([raw, bare], "perfil"):
            raise RuntimeError("fold failed")
    except RuntimeError:
        pass
    (span,) = [s for s in exporter.get_finished_spans() if s.name.startswith("process ")]
    assert span.status.status_code == trace.StatusCode.ERROR
    assert (span.attributes or {})["messaging.kafka.offset"] == 3
    assert span.start_time is not None
    assert span.end_time is not None
    assert span.start_time <= span.end_time
    assert datetime.fromtimestamp(span.end_time / 1e9, UTC) <= datetime.now(UTC)
