"""Every service's error answers, read the way the original clients read them: MS1's SPA reads `detail`, MS2's
`error`, MS4's `message`, MS5's envelope. Each body is also RFC 9457 problem+json with a Spanish `message`."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.auth import Bearer
from tests.integration.clientes.conftest import nuevo_cliente
from tests.integration.conftest import GATEWAY, URLS

PROBLEM = {"type", "title", "status", "detail", "instance", "error", "message"}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(auth=Bearer(), timeout=20.0) as client:
        yield client


def problem(r: httpx.Response, status: int, path: str) -> dict[str, Any]:
    """The three members the original clients read and the problem+json members, all present and meaningful."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json", r.headers
    body: dict[str, Any] = r.json()
    assert body.keys() >= PROBLEM, body
    assert (body["status"], body["instance"]) == (status, path)
    assert body["type"].startswith("urn:cloudbank:problema:")
    assert isinstance(body["error"], str)
    assert body["error"].strip()
    assert isinstance(body["message"], str)
    assert body["message"].endswith(".")
    assert "undefined" not in body["message"]
    assert body["detail"]
    return body


async def test_clientes_email_duplicado_se_lee_en_detail(http: httpx.AsyncClient) -> None:
    base = URLS["clientes"]
    first = nuevo_cliente()
    assert (await http.post(f"{base}/clientes", json=first)).status_code == 201
    again = nuevo_cliente(email=first["email"].upper())
    body = problem(await http.post(f"{base}/clientes", json=again), 409, "/clientes")
    assert isinstance(body["detail"], str)
    assert "email" in body["detail"]  # what MS1's SPA shows
    assert "mail" in body["message"].lower()
    assert body["errors"] == [{"field": "email", "message": body["message"]}]


async def test_clientes_dni_invalido_es_422_con_mensaje_en_castellano(http: httpx.AsyncClient) -> None:
    bad = nuevo_cliente(documento={"tipo_documento": "DNI", "numero_documento": "123"})
    body = problem(await http.post(f"{URLS['clientes']}/clientes", json=bad), 422, "/clientes")
    assert body["detail"][0]["loc"] == ["body", "documento", "numero_documento"]  # FastAPI's list, kept
    assert body["message"] == "El campo «documento.numero_documento» debe tener exactamente 8 dígitos (DNI)."
    assert body["error"] == "Datos inválidos"


async def test_cuentas_datos_malos_se_leen_en_error(http: httpx.AsyncClient) -> None:
    base = URLS["cuentas"]
    # What MS2's SPA did: alert("Error al crear cuenta: " + response.data.error).
    bad = problem(await http.post(f"{base}/cuentas", json={"cliente_id": "x", "tipo_cuenta_id": 1}), 422, "/cuentas")
    assert f"Error al crear cuenta: {bad['error']}" == "Error al crear cuenta: Datos inválidos"
    assert bad["message"] == "El campo «cliente_id» debe ser un número entero escrito solo con dígitos ASCII."
    unknown = problem(
        await http.post(f"{base}/cuentas", json={"cliente_id": 2_000_000_000, "tipo_cuenta_id": 1}), 404, "/cuentas"
    )
    assert unknown["error"] == "Cliente no encontrado"
    assert unknown["message"] == "Cliente 2000000000 no encontrado."
    negative = problem(
        await http.post(f"{base}/cuentas", json={"cliente_id": 1, "tipo_cuenta_id": 1, "saldo": -5}), 422, "/cuentas"
    )
    assert negative["message"] == "El campo «saldo» debe ser mayor o igual que 0."


async def test_transacciones_cuerpo_malo_se_lee_en_message(http: httpx.AsyncClient) -> None:
    base = URLS["transacciones"]
    body = {"tipo": "DEPOSITO", "monto": "10.001", "moneda": "PEN", "cuentaDestinoId": 1}
    refused = problem(await http.post(f"{base}/transacciones", json=body), 422, "/transacciones")
    assert refused["message"] == "El campo «monto» admite como máximo 2 decimales."
    sin_destino = {"tipo": "DEPOSITO", "monto": "10.00", "moneda": "PEN"}
    rule = problem(await http.post(f"{base}/transacciones", json=sin_destino), 422, "/transacciones")
    assert "cuentaDestinoId" in rule["message"]
    assert rule["errors"][0]["field"] == "cuentaDestinoId"
    missing = problem(
        await http.get(f"{base}/transacciones/transaccion-id/TRXnoexiste"),
        404,
        "/transacciones/transaccion-id/TRXnoexiste",
    )
    assert missing["error"] == "Transacción no encontrada"
    # No DELETE: financial records are never destroyed.
    gone = problem(await http.delete(f"{base}/transacciones/1"), 405, "/transacciones/1")
    assert gone["message"] == "La ruta /transacciones/1 no admite el método DELETE."


async def test_perfil_cliente_desconocido_es_404_problem(http: httpx.AsyncClient) -> None:
    path = "/api/clientes/2000000000/perfil-completo"
    body = problem(await http.get(f"{URLS['perfil']}{path}"), 404, path)
    assert body["message"] == "Cliente 2000000000 no encontrado."


async def test_analytics_conserva_su_sobre_y_anade_el_problema(http: httpx.AsyncClient) -> None:
    path = "/api/query/custom"
    r = await http.post(f"{URLS['analytics']}{path}", json={"query": "DELETE FROM clientes"})
    body = problem(r, 400, path)
    assert (body["success"], body["data"], body["rows_count"]) == (False, [], 0)
    assert body["error"] == body["detail"]  # the original clients show `error`
    limit = problem(
        await http.get(f"{URLS['analytics']}/api/clientes/lista", params={"limit": "x"}), 422, "/api/clientes/lista"
    )
    assert limit["success"] is False
    assert limit["message"] == "El campo «limit» debe ser un número entero."


@pytest.mark.parametrize("service", sorted(URLS))
async def test_una_ruta_desconocida_es_404_problem_en_cada_servicio(http: httpx.AsyncClient, service: str) -> None:
    body = problem(await http.get(f"{URLS[service]}/no-existe"), 404, "/no-existe")
    assert body["message"] == "La ruta /no-existe no existe."


@pytest.mark.parametrize("service", sorted(URLS))
async def test_openapi_declara_problem_para_los_errores(http: httpx.AsyncClient, service: str) -> None:
    schema = (await http.get(f"{URLS[service]}/openapi.json")).json()
    assert {"type", "title", "status", "detail", "instance", "error", "message"} <= schema["components"]["schemas"][
        "Problem"
    ]["properties"].keys()
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema["paths"].items():
        if path == "/health":
            continue
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                # A route may declare its own body for a specific status (e.g. the FALLIDA Transaccion on a 409).
                if code in ("4XX", "422", "503", "5XX"):
                    assert answer["content"]["application/problem+json"]["schema"] == ref, (method, path, code)


async def test_el_gateway_del_console_responde_con_la_misma_forma(http: httpx.AsyncClient) -> None:
    body = problem(await http.get(f"{GATEWAY}/api/no-existe"), 404, "/api/")
    assert body["message"] == "Ruta no encontrada en el gateway."
    # Through the gateway a service's own problem passes untouched.
    path = "/api/clientes/2000000000"
    assert problem(await http.get(f"{GATEWAY}{path}"), 404, "/clientes/2000000000")["error"]
