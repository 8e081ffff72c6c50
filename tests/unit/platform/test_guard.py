"""The guard of every service, in process with a locally signed token: 401 without or with a bad token, 403 naming
the roles, 404 for a customer asking for another cliente, the public paths, 503 when the keys cannot be fetched, and
a role table that covers every route of the five services."""

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from services.analytics.main import create_app as analytics_app
from services.clientes.main import create_app as clientes_app
from services.cuentas.main import create_app as cuentas_app
from services.perfil.main import create_app as perfil_app
from services.platform import policy
from services.platform.auth import AuthSettings, JwksKeys, TokenValidator
from services.platform.guard import route_templates
from services.transacciones.main import create_app as transacciones_app
from tests.signing import KEYS, authorized

APPS: dict[str, tuple[Callable[[], FastAPI], policy.ServicePolicy]] = {
    "clientes": (clientes_app, policy.CLIENTES),
    "cuentas": (cuentas_app, policy.CUENTAS),
    "perfil": (perfil_app, policy.PERFIL),
    "transacciones": (transacciones_app, policy.TRANSACCIONES),
    "analytics": (analytics_app, policy.ANALYTICS_POLICY),
}


def _client(app: FastAPI) -> httpx.AsyncClient:
    # No lifespan: nothing connects; a request the guard lets through fails later, which these tests never need.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


@pytest.mark.parametrize("service", APPS)
def test_cada_ruta_tiene_su_regla(service: str) -> None:
    make, rules = APPS[service]
    if rules.default is not None:
        return
    assert route_templates(make()) - {("GET", "/health")} == set(rules.routes), "the role table and the routes disagree"


@pytest.mark.parametrize("service", APPS)
async def test_sin_token_es_401_con_desafio_bearer(service: str) -> None:
    async with _client(authorized(APPS[service][0]())) as c:
        for path in ("/clientes/1", "/transacciones", "/api/queries/list", "/no-existe"):
            r = await c.get(path)
            assert r.status_code == 401, (path, r.text)
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "token" in r.json()["message"]


async def test_token_malo_o_vencido_es_401_invalid_token() -> None:
    async with _client(authorized(clientes_app())) as c:
        for token in ("basura", KEYS.token(("admin",), exp=1)):
            r = await c.get("/clientes/1", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401
            assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        r = await c.get("/clientes/1", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
        assert r.status_code == 401


async def test_rol_que_falta_es_403_y_nombra_los_roles() -> None:
    async with _client(authorized(clientes_app())) as c:
        r = await c.delete("/clientes/1", headers=KEYS.headers("cajero"))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "operaciones, admin" in r.json()["message"]


async def test_analytics_403_lleva_su_envoltorio() -> None:
    async with _client(authorized(analytics_app())) as c:
        r = await c.get("/api/queries/list", headers=KEYS.headers("cajero"))
    assert r.status_code == 403
    assert r.json()["success"] is False
    assert "analista" in r.json()["message"]


async def test_un_cliente_que_pide_otro_cliente_recibe_404() -> None:
    async with _client(authorized(perfil_app())) as c:
        r = await c.get("/api/clientes/8/perfil-completo", headers=KEYS.headers(cliente_id=7))
        assert r.status_code == 404
        r = await c.get("/api/clientes/buscar?q=x", headers=KEYS.headers(cliente_id=7))
        assert r.status_code == 403


async def test_rutas_publicas_y_preflight_cors() -> None:
    app = authorized(cuentas_app())
    async with _client(app) as c:
        for path in ("/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc"):
            assert (await c.get(path)).status_code == 200, path
        preflight = await c.options(
            "/cuentas",
            headers={"Origin": "http://127.0.0.1:8080", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200


async def test_openapi_declara_el_esquema_de_seguridad() -> None:
    async with _client(authorized(transacciones_app())) as c:
        doc = (await c.get("/openapi.json")).json()
        docs = (await c.get("/docs")).text
    schemes = doc["components"]["securitySchemes"]
    flow = schemes["keycloak"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"].endswith("/realms/cloudbank/protocol/openid-connect/auth")
    assert schemes["bearer"]["scheme"] == "bearer"
    assert doc["paths"]["/transacciones"]["post"]["security"] == [{"keycloak": []}, {"bearer": []}]
    assert "401" in doc["paths"]["/transacciones"]["post"]["responses"]
    assert "security" not in doc["paths"]["/health"]["get"]
    assert '"clientId": "cloudbank-swagger"' in docs
    assert '"usePkceWithAuthorizationCodeGrant": true' in docs


async def test_sin_proveedor_de_identidad_es_503_no_500() -> None:
    app = clientes_app()
    down = AuthSettings(jwks_url="http://127.0.0.1:9/certs", jwks_timeout_seconds=1)
    app.state.token_validator = TokenValidator(JwksKeys(down), down)
    async with _client(app) as c:
        r = await c.get("/clientes", headers=KEYS.headers("admin"))
    assert r.status_code == 503
    assert r.headers["retry-after"]
    assert "identidad" in r.json()["message"]


def test_reglas_del_rol() -> None:
    from services.platform.principal import Principal

    def who(*roles: str, cliente_id: int | None = None) -> Principal:
        return Principal("s", "u", "user", frozenset(roles), cliente_id)

    delete = policy.CLIENTES.rule("DELETE", "/clientes/{cliente_id}")
    assert delete.judge(who("operaciones"), "DELETE", {}) is policy.Verdict.ALLOW
    assert delete.judge(who("admin"), "DELETE", {}) is policy.Verdict.ALLOW
    assert delete.judge(who("auditor"), "DELETE", {}) is policy.Verdict.FORBIDDEN
    read = policy.CLIENTES.rule("GET", "/clientes/{cliente_id}")
    assert read.judge(who("auditor"), "GET", {}) is policy.Verdict.ALLOW
    assert read.judge(who("analista"), "GET", {}) is policy.Verdict.FORBIDDEN
    assert read.judge(who("cliente", cliente_id=4), "GET", {"cliente_id": "4"}) is policy.Verdict.ALLOW
    assert read.judge(who("cliente", cliente_id=4), "GET", {"cliente_id": "5"}) is policy.Verdict.NOT_FOUND
    assert read.judge(who("cliente"), "GET", {"cliente_id": "4"}) is policy.Verdict.FORBIDDEN  # no cliente_id
    assert policy.check_movimiento(who("cajero"), "DEPOSITO") is True
    assert policy.check_movimiento(who("cliente", cliente_id=4), "RETIRO") is False
    with pytest.raises(policy.Forbidden, match="operaciones, admin, cliente"):
        policy.check_movimiento(who("cajero"), "TRANSFERENCIA")
    with pytest.raises(policy.Forbidden):
        policy.check_movimiento(who("cliente", cliente_id=4), "DEPOSITO")
