"""Keycloak issues what IDENTITY promises: the realm's issuer, audience, roles, usernames and cliente_id per user."""

import asyncio
import base64
import hashlib
import secrets
from typing import Any

import httpx
import pytest

from bank.auth import AuthConfig, AuthError, TokenSource
from tests.integration.identity.keycloak import (
    AUTH_URL,
    ISSUER,
    KEYCLOAK,
    admin_headers,
    part,
    password_grant,
)

STAFF = ["cajero", "operaciones", "analista", "auditor", "admin"]
CUSTOMERS = {"cliente1": 1, "cliente2": 2}


@pytest.fixture(scope="module")
def jwks_kids() -> set[str]:
    discovery = httpx.get(f"{ISSUER}/.well-known/openid-configuration", timeout=30).json()
    keys = httpx.get(discovery["jwks_uri"], timeout=30).json()["keys"]
    return {k["kid"] for k in keys if k.get("use", "sig") == "sig"}


def check_common(token: str, kids: set[str]) -> dict[str, Any]:
    header, claims = part(token, 0), part(token, 1)
    assert header["alg"] == "RS256"
    assert header["kid"] in kids, "signed with a key the realm's JWKS does not publish"
    assert claims["iss"] == ISSUER
    aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert "cloudbank-api" in aud
    assert claims["exp"] > claims["iat"]
    return claims


def test_discovery_names_the_fixed_issuer() -> None:
    # Asked through another host name, the issuer stays the configured one (services compare `iss` exactly).
    doc = httpx.get(f"{ISSUER}/.well-known/openid-configuration", headers={"Host": "localhost:8180"}, timeout=30)
    assert doc.status_code == 200
    assert doc.json()["issuer"] == ISSUER


def test_client_credentials_token_is_the_cli_service_account(jwks_kids: set[str]) -> None:
    token = asyncio.run(TokenSource(AuthConfig()).token())
    claims = check_common(token, jwks_kids)
    assert claims["azp"] == "cloudbank-cli"
    assert claims["preferred_username"] == "service-account-cloudbank-cli"
    assert "admin" in claims["realm_access"]["roles"]
    assert "cliente_id" not in claims


@pytest.mark.parametrize("username", STAFF)
def test_staff_user_token_carries_its_role(username: str, jwks_kids: set[str]) -> None:
    resp = password_grant(username, f"{username}-dev")
    assert resp.status_code == 200, resp.text
    claims = check_common(resp.json()["access_token"], jwks_kids)
    assert claims["preferred_username"] == username
    roles = set(claims["realm_access"]["roles"])
    assert username in roles
    assert not roles & (set([*STAFF, "cliente"]) - {username}), f"{username} holds other business roles: {roles}"
    assert "cliente_id" not in claims


@pytest.mark.parametrize(("username", "cliente_id"), sorted(CUSTOMERS.items()))
def test_customer_token_carries_an_integer_cliente_id(username: str, cliente_id: int, jwks_kids: set[str]) -> None:
    resp = password_grant(username, f"{username}-dev")
    assert resp.status_code == 200, resp.text
    claims = check_common(resp.json()["access_token"], jwks_kids)
    assert claims["preferred_username"] == username
    assert set(claims["realm_access"]["roles"]) & set([*STAFF, "cliente"]) == {"cliente"}
    assert claims["cliente_id"] == cliente_id
    assert isinstance(claims["cliente_id"], int)


def test_wrong_password_is_refused() -> None:
    resp = password_grant("cajero", "not-the-password")
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_a_clear_error() -> None:
    source = TokenSource(AuthConfig(client_secret="wrong-secret"))
    with pytest.raises(AuthError, match="refused client credentials for cloudbank-cli"):
        asyncio.run(source.token())


def test_token_is_renewed_when_it_nears_expiry() -> None:
    now = [0.0]
    source = TokenSource(AuthConfig(), clock=lambda: now[0])

    async def twice() -> tuple[str, str, str]:
        first = await source.token()
        again = await source.token()  # still fresh: the cached one
        now[0] += 3600  # past its lifetime (the realm's is 300 s)
        return first, again, await source.token()

    first, again, renewed = asyncio.run(twice())
    assert again == first
    assert renewed != first
    assert part(renewed, 1)["iat"] >= part(first, 1)["iat"]


def test_a_customer_login_created_through_the_admin_api_gets_cliente_id(unique: str) -> None:
    # What customer logins are made of (tests and operators create them): the user profile must accept the attribute.
    headers = admin_headers()
    users = f"{KEYCLOAK}/admin/realms/cloudbank/users"
    username = f"cliente-{unique}"
    body = {
        "username": username,
        "enabled": True,
        "attributes": {"cliente_id": ["4242"]},
        "credentials": [{"type": "password", "value": f"pw-{unique}", "temporary": False}],
    }
    created = httpx.post(users, json=body, headers=headers, timeout=60)
    assert created.status_code == 201, created.text
    user_id = created.headers["Location"].rsplit("/", 1)[1]
    try:
        role = httpx.get(f"{KEYCLOAK}/admin/realms/cloudbank/roles/cliente", headers=headers, timeout=60).json()
        mapped = httpx.post(f"{users}/{user_id}/role-mappings/realm", json=[role], headers=headers, timeout=60)
        assert mapped.status_code == 204, mapped.text
        resp = password_grant(username, f"pw-{unique}")
        assert resp.status_code == 200, resp.text
        claims = part(resp.json()["access_token"], 1)
        assert claims["cliente_id"] == 4242
        assert "cliente" in claims["realm_access"]["roles"]
    finally:
        httpx.delete(f"{users}/{user_id}", headers=headers, timeout=60)


def test_cliente_id_must_be_an_integer(unique: str) -> None:
    body = {"username": f"bad-{unique}", "enabled": True, "attributes": {"cliente_id": ["uno"]}}
    resp = httpx.post(f"{KEYCLOAK}/admin/realms/cloudbank/users", json=body, headers=admin_headers(), timeout=60)
    assert resp.status_code == 400, resp.text


def _authorize(client_id: str, redirect_uri: str, *, pkce: bool = True) -> httpx.Response:
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": "openid"}
    if pkce:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return httpx.get(AUTH_URL, params=params, timeout=60)


@pytest.mark.parametrize("port", [8000, 8001, 8002, 8004, 6000])
def test_swagger_ui_may_log_in_on_every_service(port: int) -> None:
    resp = _authorize("cloudbank-swagger", f"http://127.0.0.1:{port}/docs/oauth2-redirect")
    assert resp.status_code == 200
    assert "kc-form-login" in resp.text


def test_swagger_client_requires_pkce() -> None:
    # Without a code challenge Keycloak sends the browser back to the redirect URI with an error, no login form.
    resp = _authorize("cloudbank-swagger", "http://127.0.0.1:8001/docs/oauth2-redirect", pkce=False)
    assert resp.status_code == 302
    assert "error=invalid_request" in resp.headers["Location"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_gateway_may_log_in_through_its_callback(host: str) -> None:
    resp = _authorize("cloudbank-gateway", f"http://{host}:8080/oauth2/callback")
    assert resp.status_code == 200
    assert "kc-form-login" in resp.text


def test_unknown_redirect_uri_is_refused() -> None:
    resp = _authorize("cloudbank-gateway", "http://evil.example/oauth2/callback")
    assert resp.status_code == 400
