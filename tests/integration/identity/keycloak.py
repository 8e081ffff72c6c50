"""Helpers for the identity tests: Keycloak's addresses, token requests and a look inside a JWT."""

import base64
import json
from typing import Any

import httpx

KEYCLOAK = "http://127.0.0.1:8180"
ISSUER = f"{KEYCLOAK}/realms/cloudbank"
TOKEN_URL = f"{ISSUER}/protocol/openid-connect/token"
AUTH_URL = f"{ISSUER}/protocol/openid-connect/auth"
CLI = {"client_id": "cloudbank-cli", "client_secret": "cli-dev-secret"}
ADMIN = {"username": "admin", "password": "admin-dev"}  # bootstrap admin of the master realm (dev only)


def part(token: str, index: int) -> dict[str, Any]:
    """Header (0) or claims (1) of a compact JWS, decoded without checking it (the signature is checked elsewhere)."""
    segment = token.split(".")[index]
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


def password_grant(username: str, password: str) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password, "scope": "openid"} | CLI
    return httpx.post(TOKEN_URL, data=form, timeout=60)


def admin_headers() -> dict[str, str]:
    form = {"grant_type": "password", "client_id": "admin-cli"} | ADMIN
    resp = httpx.post(f"{KEYCLOAK}/realms/master/protocol/openid-connect/token", data=form, timeout=60)
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}
