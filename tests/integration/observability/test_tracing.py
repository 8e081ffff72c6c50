"""One transfer is one trace: POST /transacciones -> saga commands -> cuentas -> replies -> perfil and the lake, found
by `bank trace`, with the W3C trace context on the records of all three outboxes; the services log JSON lines with
the request's ids."""

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from bank.cli import app as cli
from bank.trace_cmd import read_spans, traces_of
from contracts import topics
from services.platform.telemetry import trace_dir
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.clientes.kafka_tail import Record, Tail
from tests.integration.conftest import URLS
from tests.integration.transacciones.conftest import Banco

LOGS = Path(".run/logs")


def _traceparent_ok(record: Record) -> bool:
    version, trace_id, span_id, flags = record.headers["ce_traceparent"].split("-")
    return (version, len(trace_id), len(span_id), len(flags)) == ("00", 32, 16, 2) and int(trace_id, 16) != 0


async def _transfer(banco: Banco, request_id: str, correlation_id: str) -> tuple[dict[str, Any], httpx.Response]:
    cliente = await banco.nuevo_cliente()
    origen = await banco.abrir_cuenta(cliente, "100.00")
    destino = await banco.abrir_cuenta(cliente, "0.00")
    body = {
        "tipo": "TRANSFERENCIA",
        "monto": "12.34",
        "moneda": "PEN",
        "cuentaOrigenId": origen,
        "cuentaDestinoId": destino,
    }
    r = await banco.trx.post(
        "/transacciones", json=body, headers={"X-Request-ID": request_id, "X-Correlation-ID": correlation_id}
    )
    assert r.status_code in (201, 202), r.text
    final = await banco.esperar_final(r.json()["id"]) if r.status_code == 202 else r.json()
    assert final["estado"] == "COMPLETADA", final
    return final, r


async def test_una_transferencia_es_una_traza_de_todos_los_saltos_y_los_registros_la_llevan() -> None:
    request_id = f"test-{uuid.uuid4().hex}"
    correlation_id = f"corr-{uuid.uuid4().hex[:12]}"
    async with (
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["clientes"], timeout=20) as clientes,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["cuentas"], timeout=20) as cuentas,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["transacciones"], timeout=20) as trx,
        Tail(topics.CLIENTES) as t_clientes,
        Tail(topics.CUENTAS) as t_cuentas,
        Tail(topics.TRANSACCIONES) as t_trx,
    ):
        final, answer = await _transfer(Banco(clientes, cuentas, trx), request_id, correlation_id)
        trx_id = final["transaccionId"]
        assert answer.headers["X-Request-ID"] == request_id

        # the W3C trace context travels on the records of every outbox: clientes (PostgreSQL), cuentas (MariaDB),
        # transacciones (in its documents)
        cliente_rec = await t_clientes.wait_for(lambda r: "ce_traceparent" in r.headers, what="a traced cliente event")
        saldo = await t_cuentas.wait_for(
            lambda r: r.data.get("transaccion_id") == trx_id, what=f"SaldoActualizado of {trx_id}"
        )
        completada = await t_trx.wait_for(
            lambda r: r.key == trx_id.encode() and r.headers["ce_type"].endswith("TransaccionRegistrada.v1"),
            what=f"TransaccionRegistrada of {trx_id}",
        )
        for record in (cliente_rec, saldo, completada):
            assert _traceparent_ok(record), record.headers
        trace_of = {r.headers["ce_traceparent"].split("-")[1] for r in (saldo, completada)}
        assert len(trace_of) == 1, trace_of  # the saga's records are of the request's trace

    (trace_id,) = trace_of

    async def hops() -> list[dict[str, Any]] | None:
        found = traces_of(read_spans(trace_dir()), trx_id)
        spans = found.get(trace_id, [])
        services = {s["service"] for s in spans}
        names = {s["name"] for s in spans}
        ids = {s["span_id"] for s in spans}
        complete = all(s["parent_id"] in ids for s in spans if s["parent_id"])
        # perfil and the sink handle the outcome event in their own time (the sink flushes batches): wait for it
        outcomes = {
            s["service"]
            for s in spans
            if s["attributes"].get("cloudevents.event_type", "").endswith("TransaccionRegistrada.v1")
        }
        wanted = {"transacciones", "cuentas"} <= services and {"perfil", "lake"} <= outcomes
        wanted = wanted and "POST /transacciones" in names
        return spans if wanted and complete and len(found) == 1 else None

    spans = await eventually(hops, timeout=30, interval=0.5, what=f"the whole trace of {trx_id} in {trace_dir()}")
    (root,) = [s for s in spans if s["parent_id"] is None]
    assert (root["service"], root["name"], root["kind"]) == ("transacciones", "POST /transacciones", "server")
    by_id = {s["span_id"]: s for s in spans}

    def chain(span: dict[str, Any]) -> list[str]:
        out = []
        at: dict[str, Any] | None = span
        while at is not None:
            out.append(f"{at['service']}:{at['name']}")
            at = by_id.get(at["parent_id"])
        return out

    # cuentas handled the saga's debit command as a child of the request, and perfil / the lake the outcome event,
    # through the replies that transacciones handled
    debit = [s for s in spans if s["service"] == "cuentas" and s["name"] == f"process {topics.CUENTAS_COMANDOS}"]
    assert debit
    assert chain(debit[0])[-1] == "transacciones:POST /transacciones"
    for service in ("perfil", "lake"):
        outcome = [
            s
            for s in spans
            if s["service"] == service
            and s["attributes"].get("cloudevents.event_type", "").endswith("TransaccionRegistrada.v1")
        ]
        assert outcome, service
        path = chain(outcome[0])
        assert f"transacciones:process {topics.CUENTAS}" in path, path  # a reply handled on the way
        assert f"cuentas:process {topics.CUENTAS_COMANDOS}" in path, path
        assert all(s["end"] >= s["start"] for s in spans)

    printed = CliRunner().invoke(cli, ["trace", trx_id])
    assert printed.exit_code == 0, printed.output
    assert f"trace {trace_id}" in printed.output
    for name in ("POST /transacciones", f"process {topics.CUENTAS_COMANDOS}", f"process {topics.TRANSACCIONES}"):
        assert name in printed.output

    # the request's JSON log line: its ids, the trace, the actor
    def read_access_line() -> dict[str, Any] | None:
        for path in LOGS.glob("transacciones*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if request_id in line and line.startswith("{"):
                    parsed: dict[str, Any] = json.loads(line)
                    if parsed.get("logger") == "cloudbank.access":
                        return parsed
        return None

    async def access_line() -> dict[str, Any] | None:
        return read_access_line()

    line: dict[str, Any] = await eventually(access_line, timeout=10, what=f"the access line of {request_id}")
    assert line["request_id"] == request_id
    assert line["correlation_id"] == correlation_id
    assert line["trace_id"] == trace_id
    assert line["service"].startswith("transacciones")
    assert (line["method"], line["route"], line["status"]) == ("POST", "/transacciones", answer.status_code)
    assert line["level"] == "INFO"
    assert line["actor"]
    assert line["duration_ms"] > 0
    assert line["timestamp"]
