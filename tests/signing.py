"""Test-only token issuer: an RSA key made here, tokens shaped like Keycloak's, and a validator that knows the key,
put on an app's state in place of the JWKS one. No production code path accepts these tokens."""

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from services.platform.auth import AuthSettings, InvalidToken, TokenValidator
from services.platform.policy import Rule, ServicePolicy

TEST_POLICY = ServicePolicy({}, default=Rule(frozenset()))
"""For apps a test builds itself: every route is admin's (admin_headers())."""

SETTINGS = AuthSettings(issuer="http://issuer.test/realms/cloudbank", audience="cloudbank-api")


class TestKeys:
    """A KeySource with one locally generated key (`kid`); other kids are unknown."""

    __test__ = False  # not a test class, whatever its name says

    def __init__(self, kid: str = "test-key") -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    async def key(self, kid: str) -> Any:
        if kid != self.kid:
            raise InvalidToken(f"unknown signing key {kid!r}")
        return self.private.public_key()

    def token(self, roles: tuple[str, ...] = ("admin",), cliente_id: int | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": SETTINGS.issuer,
            "aud": [SETTINGS.audience, "account"],
            "sub": f"sub-{'-'.join(roles)}-{cliente_id}",
            "iat": now,
            "exp": now + 300,
            "preferred_username": "-".join(roles) or "nadie",
            "realm_access": {"roles": list(roles)},
        }
        if cliente_id is not None:
            payload["cliente_id"] = cliente_id
        payload.update(claims)
        return jwt.encode(payload, self.private, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, role: str = "admin", cliente_id: int | None = None) -> dict[str, str]:
        roles = ("cliente",) if cliente_id is not None else (role,)
        return {"Authorization": f"Bearer {self.token(roles, cliente_id)}"}

    def validator(self) -> TokenValidator:
        return TokenValidator(self, SETTINGS)

    def install(self, app: FastAPI) -> FastAPI:
        """Make `app` accept this key's tokens (and only them)."""
        app.state.token_validator = self.validator()
        return app


KEYS = TestKeys()


def authorized(app: FastAPI) -> FastAPI:
    return KEYS.install(app)


def admin_headers() -> dict[str, str]:
    return KEYS.headers("admin")
