"""JSON log lines: every line parses, carries the service and, in a request, its ids and actor; the request id is
the caller's (or a new one) and is echoed back; one access line per request with method, route, status, duration."""

import io
import logging

import httpx
import orjson
import pytest
from fastapi import FastAPI, Request
from opentelemetry import trace

from services.platform.logs import JsonFormatter, RequestLog
from services.platform.principal import Principal
from tests.unit.observability.spans import recording


@pytest.fixture
def lines():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("cuentas-1"))
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.INFO)
    yield lambda: [orjson.loads(line) for line in out.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old)


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/cuentas/{cuenta_id}")
    async def leer(cuenta_id: int, request: Request) -> dict[str, int]:
        request.state.principal = Principal(subject="s-1", username="cajero", authtype="user", roles=frozenset())
        with trace.get_tracer("test").start_as_current_span("leer"):
            logging.getLogger("services.cuentas").info("leyendo %d", cuenta_id)
        return {"id": cuenta_id}

    app.add_middleware(RequestLog)
    return app


async def _get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers)


async def test_la_linea_lleva_ids_traza_y_actor_y_el_request_id_vuelve(lines) -> None:
    recording()
    answer = await _get("/cuentas/7", {"X-Request-ID": "req-abc.1", "X-Correlation-ID": "corr-9"})
    assert answer.status_code == 200
    assert answer.headers["X-Request-ID"] == "req-abc.1"
    app_line, access = [line for line in lines() if line["logger"] in ("services.cuentas", "cloudbank.access")]
    assert app_line["message"] == "leyendo 7"
    assert app_line["level"] == "INFO"
    assert app_line["service"] == "cuentas-1"
    assert (app_line["request_id"], app_line["correlation_id"], app_line["actor"]) == ("req-abc.1", "corr-9", "cajero")
    assert len(app_line["trace_id"]) == 32
    assert app_line["timestamp"].endswith("+00:00")
    assert access["method"] == "GET"
    assert access["route"] == "/cuentas/{cuenta_id}"
    assert access["path"] == "/cuentas/7"
    assert access["status"] == 200
    assert access["duration_ms"] >= 0
    assert (access["request_id"], access["actor"]) == ("req-abc.1", "cajero")


@pytest.mark.parametrize("given", [None, "", "x" * 129, "bad id\twith spaces"])
async def test_sin_request_id_valido_se_crea_uno(lines, given) -> None:
    answer = await _get("/cuentas/7", {"X-Request-ID": given} if given is not None else None)
    made = answer.headers["X-Request-ID"]
    assert made != given
    assert len(made) == 32
    (access,) = [line for line in lines() if line["logger"] == "cloudbank.access"]
    assert access["request_id"] == made


async def test_una_ruta_inexistente_tambien_tiene_su_linea(lines) -> None:
    answer = await _get("/nada")
    assert answer.status_code == 404
    assert "X-Request-ID" in answer.headers
    (access,) = [line for line in lines() if line["logger"] == "cloudbank.access"]
    assert (access["status"], access["route"], access["actor"]) == (404, None, None)


def test_una_linea_fuera_de_peticion_no_inventa_ids(lines) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("consumers.runner").exception("fallo")
    (line,) = lines()
    assert line["level"] == "ERROR"
    assert "request_id" not in line
    assert "ValueError: boom" in line["exception"]
