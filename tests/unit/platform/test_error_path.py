"""The one error path of every service: each failure answers problem+json with detail, error and message; a
dependency that is away answers 503 + Retry-After; anything unexpected a 500 problem, never plain text."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pymongo.errors
import pymysql
import pytest
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from services.platform.app import create_base_app
from services.platform.errors import Conflict, Invalid, NotFound
from tests.signing import TEST_POLICY, admin_headers, authorized

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "error", "message", "errors"}


class Alta(BaseModel):
    nombre: str = Field(max_length=5)
    monto: int = Field(gt=0)


class Duplicado(Conflict):
    def __init__(self) -> None:
        super().__init__("email ya registrado por otro cliente")
        self.field = "email"


FAILURES: dict[str, BaseException] = {
    "postgres-commit": asyncpg.exceptions.ConnectionDoesNotExistError(
        "connection was closed in the middle of operation"
    ),
    "postgres-refused": OSError("Multiple exceptions: [Errno 111] Connect call failed ('127.0.0.1', 5432)"),
    "postgres-shutdown": asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    "mariadb": pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query"),
    "mongo": pymongo.errors.ServerSelectionTimeoutError("127.0.0.1:27017: connection refused"),
    "kafka": KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9092)]"),
    "grupo": ExceptionGroup("writes", [ConnectionResetError(104, "Connection reset by peer")]),
    "causa": RuntimeError("saga step failed"),
}
FAILURES["causa"].__cause__ = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")


def make_app(**kw: Any) -> FastAPI:
    app = create_base_app(title="t", version="0", cors_origins=["*"], policy=TEST_POLICY, **kw)
    authorized(app)

    @app.post("/altas")
    async def alta(body: Alta) -> dict[str, str]:
        return {"ok": body.nombre}

    @app.get("/fallos/{nombre}")
    async def fallo(nombre: str) -> None:
        raise FAILURES[nombre]

    @app.post("/fallos/{nombre}")
    async def fallo_al_escribir(nombre: str) -> None:
        raise FAILURES[nombre]

    @app.get("/bug")
    async def bug() -> None:
        raise ZeroDivisionError("division by zero")

    @app.get("/missing-file")
    async def missing_file() -> None:
        raise FileNotFoundError("/etc/nothing")

    @app.get("/dominio/{kind}")
    async def dominio(kind: str) -> None:
        if kind == "conflicto":
            raise Duplicado()
        if kind == "invalido":
            raise Invalid("hasta", "must not be earlier than desde")
        if kind == "http":
            raise HTTPException(403, "Se necesita el rol cajero")
        raise NotFound("Cliente 7 no encontrado")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=admin_headers()) as c:
        yield c


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body.keys() >= PROBLEM_MEMBERS, body
    assert body["status"] == status
    assert body["type"].startswith("urn:cloudbank:problema:")
    assert body["error"]
    assert body["title"] == body["error"]
    assert body["message"].endswith(".")
    assert body["message"][0].isupper()
    return body


async def test_un_422_de_esquema_conserva_la_lista_y_explica_en_castellano(client: httpx.AsyncClient) -> None:
    body = problem(await client.post("/altas", json={"nombre": "demasiado largo", "monto": 0}), 422)
    assert [e["loc"] for e in body["detail"]] == [["body", "nombre"], ["body", "monto"]]
    assert body["errors"] == [
        {"field": "nombre", "message": "El campo «nombre» admite como máximo 5 caracteres."},
        {"field": "monto", "message": "El campo «monto» debe ser mayor que 0."},
    ]
    assert body["message"] == "El campo «nombre» admite como máximo 5 caracteres (y 1 error más)."
    assert body["instance"] == "/altas"


async def test_un_cuerpo_que_no_es_json_es_422_con_mensaje(client: httpx.AsyncClient) -> None:
    r = await client.post("/altas", content=b"{no json", headers={"content-type": "application/json"})
    assert "no es JSON válido" in problem(r, 422)["message"]


async def test_un_campo_ausente_es_obligatorio(client: httpx.AsyncClient) -> None:
    body = problem(await client.post("/altas", json={"nombre": "ana"}), 422)
    assert body["message"] == "El campo «monto» es obligatorio."


async def test_errores_de_dominio_nombran_el_campo(client: httpx.AsyncClient) -> None:
    conflicto = problem(await client.get("/dominio/conflicto"), 409)
    assert conflicto["detail"] == "email ya registrado por otro cliente"
    assert conflicto["message"] == "Email ya registrado por otro cliente."
    assert conflicto["errors"] == [{"field": "email", "message": conflicto["message"]}]
    assert conflicto["type"] == "urn:cloudbank:problema:duplicado"
    invalido = problem(await client.get("/dominio/invalido"), 422)
    assert invalido["detail"] == [
        {"loc": ["body", "hasta"], "msg": "must not be earlier than desde", "type": "value_error"}
    ]
    assert invalido["message"] == "El campo «hasta» no debe ser anterior a desde."
    assert problem(await client.get("/dominio/x"), 404)["message"] == "Cliente 7 no encontrado."
    prohibido = problem(await client.get("/dominio/http"), 403)
    assert (prohibido["detail"], prohibido["error"]) == ("Se necesita el rol cajero", "Acceso denegado")


async def test_rutas_desconocidas_y_metodos_no_admitidos(client: httpx.AsyncClient) -> None:
    missing = problem(await client.get("/no-existe"), 404)
    assert (missing["detail"], missing["message"]) == ("La ruta /no-existe no existe", "La ruta /no-existe no existe.")
    r = await client.delete("/altas")
    assert problem(r, 405)["message"] == "La ruta /altas no admite el método DELETE."
    assert r.headers["allow"] == "POST"


@pytest.mark.parametrize("nombre", sorted(FAILURES))
async def test_una_dependencia_caida_es_503_con_retry_after(client: httpx.AsyncClient, nombre: str) -> None:
    r = await client.get(f"/fallos/{nombre}", headers={"Origin": "http://spa.example"})
    body = problem(r, 503)
    assert r.headers["retry-after"] == "2"
    assert r.headers["access-control-allow-origin"] == "*"  # the browser may read why
    assert body["error"] == "Servicio no disponible"
    assert "no está disponible" in body["message"]


async def test_el_navegador_puede_leer_las_cabeceras_que_la_api_responde(client: httpx.AsyncClient) -> None:
    r = await client.get("/fallos/kafka", headers={"Origin": "http://spa.example"})
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    wanted = {"x-total-count", "location", "retry-after", "idempotent-replayed", "preference-applied"}
    assert wanted <= exposed, wanted - exposed


async def test_un_commit_cortado_no_se_presenta_como_rechazo(client: httpx.AsyncClient) -> None:
    body = problem(await client.post("/fallos/postgres-commit"), 503)
    assert "pudo haberse aplicado o no" in body["message"]
    assert "Idempotency-Key" in body["message"]


@pytest.mark.parametrize("path", ["/bug", "/missing-file"])
async def test_un_error_inesperado_es_un_500_problem_registrado(
    client: httpx.AsyncClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    r = await client.get(path, headers={"Origin": "http://spa.example"})
    body = problem(r, 500)
    assert "retry-after" not in r.headers
    assert r.headers["access-control-allow-origin"] == "*"
    assert body["error"] == "Error interno"
    assert any(rec.exc_info for rec in caplog.records if rec.levelname == "ERROR")


async def test_el_envoltorio_de_un_servicio_rodea_el_problema() -> None:
    def envelope(problem: dict[str, Any]) -> dict[str, Any]:
        return problem | {"success": False}

    transport = httpx.ASGITransport(app=make_app(error_body=envelope))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=admin_headers()) as c:
        for r in (await c.get("/no-existe"), await c.get("/bug"), await c.get("/fallos/kafka")):
            assert r.json()["success"] is False
            assert r.json().keys() >= PROBLEM_MEMBERS


def test_openapi_declara_problem_para_los_errores() -> None:
    schema = make_app().openapi()
    components = schema["components"]["schemas"]
    assert "Problem" in components
    assert "HTTPValidationError" not in components
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            responses = operation["responses"]
            assert "503" in responses, path
            assert not {"4XX", "5XX", "default"} & responses.keys(), path  # only statuses the route really sends
            for code, answer in responses.items():
                if code[0] in "45":
                    assert answer["content"] == {"application/problem+json": {"schema": ref}}, (path, code)
    assert "Retry-After" in schema["paths"]["/altas"]["post"]["responses"]["503"]["headers"]
