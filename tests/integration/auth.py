"""Tokens from the stack's real Keycloak for integration tests: `auth_headers(role)` logs in as the demo user of
that role, `customer_headers(cliente_id)` as a customer login for that cliente (created through the admin API the
first time). Tokens are cached per login and renewed before they expire."""

import os
import threading
import time
from collections.abc import Generator
from typing import Any

import httpx

KEYCLOAK = os.environ.get("TEST_KEYCLOAK_URL", "http://127.0.0.1:8180")
REALM = "cloudbank"
TOKEN_URL = f"{KEYCLOAK}/realms/{REALM}/protocol/openid-connect/token"
CLIENT = ("cloudbank-cli", os.environ.get("TEST_CLI_SECRET", "cli-dev-secret"))
ADMIN = ("admin", os.environ.get("TEST_KEYCLOAK_ADMIN_PASSWORD", "admin-dev"))
RENEW_BEFORE = 30.0  # seconds: a token handed out is good for at least this long

_lock = threading.Lock()  # schemathesis drives requests from threads
_tokens: dict[str, tuple[str, float]] = {}


def auth_headers(role: str = "admin") -> dict[str, str]:
    """Bearer headers of the demo user `role` (password `<role>-dev`): cajero, operaciones, analista, auditor,
    admin; also cliente1 / cliente2."""
    return _bearer(f"user:{role}", lambda: _password_grant(role, f"{role}-dev"))


def customer_headers(cliente_id: int) -> dict[str, str]:
    """Bearer headers of a customer login (role `cliente`, claim `cliente_id`) for that cliente."""
    username = f"test-cliente-{cliente_id}"
    password = f"{username}-pw"

    def login() -> dict[str, Any]:
        _ensure_customer(username, password, cliente_id)
        return _password_grant(username, password)

    return _bearer(f"customer:{cliente_id}", login)


def access_token(role: str = "admin") -> str:
    return auth_headers(role)["Authorization"].removeprefix("Bearer ")


def _bearer(key: str, login: Any) -> dict[str, str]:
    with _lock:
        token, expires = _tokens.get(key, ("", 0.0))
        if time.monotonic() > expires - RENEW_BEFORE:
            answer = login()
            token = answer["access_token"]
            expires = time.monotonic() + float(answer["expires_in"])
            _tokens[key] = (token, expires)
    return {"Authorization": f"Bearer {token}"}


def _password_grant(username: str, password: str) -> dict[str, Any]:
    data = {
        "grant_type": "password",
        "client_id": CLIENT[0],
        "client_secret": CLIENT[1],
        "username": username,
        "password": password,
        "scope": "openid",
    }
    answer = httpx.post(TOKEN_URL, data=data, timeout=30)
    assert answer.status_code == 200, f"login of {username} refused: {answer.status_code} {answer.text}"
    token: dict[str, Any] = answer.json()
    return token


def _admin_token() -> str:
    data = {"grant_type": "password", "client_id": "admin-cli", "username": ADMIN[0], "password": ADMIN[1]}
    answer = httpx.post(f"{KEYCLOAK}/realms/master/protocol/openid-connect/token", data=data, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _ensure_customer(username: str, password: str, cliente_id: int) -> None:
    """The customer login exists with role `cliente` and attribute cliente_id (idempotent)."""
    admin = f"{KEYCLOAK}/admin/realms/{REALM}"
    with httpx.Client(headers={"Authorization": f"Bearer {_admin_token()}"}, timeout=30) as http:
        found = http.get(f"{admin}/users", params={"username": username, "exact": "true"}).json()
        if not found:
            user = {
                "username": username,
                "enabled": True,
                "emailVerified": True,
                "email": f"{username}@clientes.test",
                "firstName": "Cliente",
                "lastName": str(cliente_id),
                "attributes": {"cliente_id": [str(cliente_id)]},
                "credentials": [{"type": "password", "value": password, "temporary": False}],
                "requiredActions": [],
            }
            created = http.post(f"{admin}/users", json=user)
            assert created.status_code in (201, 409), created.text
            found = http.get(f"{admin}/users", params={"username": username, "exact": "true"}).json()
        user_id = found[0]["id"]
        role = http.get(f"{admin}/roles/cliente").json()
        http.post(f"{admin}/users/{user_id}/role-mappings/realm", json=[role]).raise_for_status()


class Bearer(httpx.Auth):
    """httpx auth for a test client: every request carries a current token of `role` (or of the customer login of
    `cliente_id`), renewed as it nears expiry, so long-lived clients never send an expired one."""

    def __init__(self, role: str = "admin", *, cliente_id: int | None = None) -> None:
        self.role = role
        self.cliente_id = cliente_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = customer_headers(self.cliente_id) if self.cliente_id is not None else auth_headers(self.role)
        request.headers.update(headers)
        yield request
