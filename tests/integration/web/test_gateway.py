"""The gateway as backend-for-frontend against the real Keycloak and services: the login leaves an HttpOnly,
SameSite=Lax session cookie; /api calls with it reach the services as the user's own bearer token; scripts' bearer
tokens pass too; no credentials → 401; /legacy/ serves a dropped-in SPA behind the same session; /health is real."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import eventually
from tests.integration.auth import access_token
from tests.integration.conftest import GATEWAY
from tests.integration.web.login import SESSION_COOKIE, browser, login

ROOT = Path(__file__).resolve().parents[3]
LEGACY = ROOT / "web" / "legacy"
ANALYTICS = "/api/analytics/api/queries/list"  # analista, auditor, admin only


@pytest.fixture(scope="module")
def cajero() -> Iterator[httpx.Client]:
    with browser() as client:
        login(client, "cajero")
        yield client


def test_without_session_or_token_an_api_call_is_a_401_problem_with_a_bearer_challenge() -> None:
    with browser() as client:
        for path in ("/api/clientes", "/api/cuentas/1", "/api/perfil/api/clientes/buscar?q=a", ANALYTICS):
            r = client.get(path)
            assert r.status_code == 401, path
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["status"] == 401
            assert r.headers["www-authenticate"].startswith("Bearer")
        # The console itself and the services' health stay public: the login screen must load.
        assert client.get("/").status_code == 200
        assert client.get("/api/health/clientes").json()["status"] in ("healthy", "degraded")


def test_the_login_sets_an_httponly_samesite_session_cookie_and_no_token_reaches_the_browser() -> None:
    with browser() as client:
        callback = login(client, "analista", rd="/#/analytics")
        assert callback.headers["location"] == "/#/analytics"
        cookies = [v for k, v in callback.headers.multi_items() if k.lower() == "set-cookie"]
        session = [c for c in cookies if c.startswith(SESSION_COOKIE)]
        assert session, cookies
        for cookie in session:
            attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
            assert "httponly" in attributes, cookie
            assert "samesite=lax" in attributes, cookie
            assert "secure" not in attributes  # plain HTTP on 127.0.0.1; Secure comes with TLS/production
        me = client.get("/oauth2/userinfo")
        assert me.status_code == 200
        body = me.json()
        assert body["preferredUsername"] == "analista"
        assert "role:analista" in body["groups"]
        assert not {"accessToken", "access_token", "idToken"} & set(body)
        api = client.get(ANALYTICS)
        assert api.status_code == 200, api.text
        assert not [h for h in api.headers if h.lower().startswith("x-auth-request")]


def test_the_session_reaches_the_services_as_the_users_own_token(cajero: httpx.Client) -> None:
    listed = cajero.get("/api/clientes", params={"limit": 1})
    assert listed.status_code == 200, listed.text
    # The service itself refuses the cajero analytics: it saw the cajero's token, not some gateway identity.
    refused = cajero.get(ANALYTICS)
    assert refused.status_code == 403, refused.text
    assert "analista" in refused.text


def test_a_scripts_bearer_token_passes_without_a_session_and_a_forged_one_does_not() -> None:
    with httpx.Client(base_url=GATEWAY, timeout=30) as script:
        ok = script.get(ANALYTICS, headers={"Authorization": f"Bearer {access_token('auditor')}"})
        assert ok.status_code == 200, ok.text
        refused = script.get(ANALYTICS, headers={"Authorization": f"Bearer {access_token('cajero')}"})
        assert refused.status_code == 403, refused.text
        token = access_token("admin")
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        bad = script.get("/api/clientes", headers={"Authorization": f"Bearer {forged}"})
        assert bad.status_code == 401


def test_logout_clears_the_session() -> None:
    with browser() as client:
        login(client, "auditor")
        assert client.get("/api/clientes", params={"limit": 1}).status_code == 200
        out = client.get("/oauth2/sign_out", params={"rd": "/"})
        assert out.status_code == 302
        assert out.headers["location"] == "/"
        assert client.get("/oauth2/userinfo").status_code == 401
        assert client.get("/api/clientes", params={"limit": 1}).status_code == 401


@pytest.fixture
def legacy_app() -> Iterator[str]:
    """A stand-in for the original SPA's build, dropped into the documented folder (removed afterwards)."""
    folder = LEGACY / f"test-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text('<!doctype html><title>SPA original</title><script src="app.js"></script>')
    (folder / "app.js").write_text('fetch("/api/clientes?limit=1").then((r) => document.title = String(r.status));')
    try:
        yield f"/legacy/{folder.name}/"
    finally:
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()


def test_legacy_spa_is_served_from_the_gateways_origin_behind_the_staff_login(
    legacy_app: str, cajero: httpx.Client
) -> None:
    with browser() as anonymous:
        r = anonymous.get(legacy_app)
        assert r.status_code == 302
        assert r.headers["location"].endswith(f"/oauth2/start?rd={legacy_app}")
    page = cajero.get(legacy_app)
    assert page.status_code == 200
    assert "SPA original" in page.text
    script = cajero.get(f"{legacy_app}app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    # Its calls are same-origin /api/... ones: the session cookie goes along and the service answers.
    assert cajero.get("/api/clientes", params={"limit": 1}).status_code == 200


async def supervisorctl(*args: str) -> None:
    ctl = [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(ROOT / "infra/supervisord.conf"), *args]
    proc = await asyncio.create_subprocess_exec(*ctl, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()


async def test_health_is_real_it_fails_while_oauth2_proxy_is_down() -> None:
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=5) as client:
        assert (await client.get("/health")).json()["status"] == "healthy"
        await supervisorctl("stop", "oauth2-proxy")
        try:
            down = await client.get("/health")
            assert down.status_code == 503
            assert down.json()["checks"]["oauth2-proxy"] == "down"
        finally:
            await supervisorctl("start", "oauth2-proxy")

        async def healthy() -> bool | None:
            return (await client.get("/health")).status_code == 200 or None

        await eventually(healthy, timeout=30, interval=0.3, what="gateway health after oauth2-proxy restarts")
