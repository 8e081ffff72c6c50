"""/docs and /redoc of every service load nothing from outside: each asset the pages name is served by the service
itself (public, cacheable), and Swagger UI's Authorize is set up for Keycloak's PKCE client."""

import importlib
import re

import httpx
import pytest
from fastapi import FastAPI

from services.platform.docs import DOCS_PATHS

SERVICES = ["clientes", "cuentas", "transacciones", "perfil", "analytics"]


def _client(app: FastAPI) -> httpx.AsyncClient:
    # No token, no lifespan: the docs must need neither.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def _urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_la_pagina_solo_pide_recursos_del_propio_servicio(name: str, page: str) -> None:
    app: FastAPI = importlib.import_module(f"services.{name}.main").create_app()
    async with _client(app) as c:
        html = (await c.get(page)).text
        urls = _urls(html)
        assert urls, html
        for url in urls:
            assert url.startswith("/"), f"{page} loads {url} from outside the service"
            r = await c.get(url)
            assert r.status_code == 200, url
            if url.endswith(".js"):
                assert len(r.content) > 100_000, url
                assert "javascript" in r.headers["content-type"], url
                assert "max-age" in r.headers["cache-control"]
    assert "cdn" not in html.lower()


async def test_swagger_ui_autoriza_con_el_cliente_pkce_de_keycloak() -> None:
    app: FastAPI = importlib.import_module("services.clientes.main").create_app()
    async with _client(app) as c:
        html = (await c.get("/docs")).text
        redirect = await c.get("/docs/oauth2-redirect")
    assert "SwaggerUIBundle(" in html
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert '"clientId": "cloudbank-swagger"' in html
    assert '"usePkceWithAuthorizationCodeGrant": true' in html
    assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'" in html
    assert redirect.status_code == 200
    assert "swaggerUIRedirectOauth2" in redirect.text


async def test_solo_los_recursos_conocidos_son_publicos() -> None:
    app: FastAPI = importlib.import_module("services.cuentas.main").create_app()
    async with _client(app) as c:
        assert (await c.get("/docs/assets/otra-cosa.js")).status_code == 401
        assert (await c.get("/docs/assets/../../cuentas")).status_code == 401
    assert {p for p in DOCS_PATHS if p.startswith("/docs/assets/")} == {
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
        "/docs/assets/redoc.standalone.js",
        "/docs/assets/favicon.png",
    }
