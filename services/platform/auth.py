"""Bearer tokens: a Keycloak access token validated (RS256 against the realm's JWKS, issuer, audience, expiry with a
small leeway) into the Principal it names. The JWKS is cached; a token signed with a key we do not know yet (the
realm rotated its keys) makes us fetch the set again, at most once per `jwks_min_refetch_seconds`."""

import asyncio
import logging
import time
from typing import Any, Protocol

import httpx
import jwt
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.platform.errors import Unavailable
from services.platform.principal import AuthType, Principal

log = logging.getLogger(__name__)

ALGORITHM = "RS256"  # the only one accepted: never `none`, never an HMAC keyed with a public key
IDENTITY_PROVIDER = "El proveedor de identidad (Keycloak)"


class AuthSettings(BaseSettings):
    """Shared by every service (env AUTH_ISSUER, AUTH_JWKS_URL, AUTH_AUDIENCE, AUTH_LEEWAY_SECONDS, ...)."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", env_file=None, extra="ignore")

    issuer: str = "http://127.0.0.1:8180/realms/cloudbank"
    jwks_url: str = Field("", description="default: <issuer>/protocol/openid-connect/certs")
    audience: str = "cloudbank-api"
    leeway_seconds: int = Field(30, ge=0, le=300, description="clock skew tolerated on exp/nbf/iat")
    jwks_cache_seconds: float = Field(300.0, gt=0, description="how long a fetched key set is used before refetching")
    jwks_min_refetch_seconds: float = Field(
        10.0, ge=0, description="an unknown kid refetches the set at most this often (a flood of forged kids)"
    )
    jwks_timeout_seconds: float = Field(5.0, gt=0)
    swagger_client_id: str = Field("cloudbank-swagger", description="the public client Swagger UI's Authorize uses")

    def jwks(self) -> str:
        return self.jwks_url or f"{self.issuer.rstrip('/')}/protocol/openid-connect/certs"

    def endpoint(self, name: str) -> str:
        """An OpenID Connect endpoint of the realm (`auth`, `token`)."""
        return f"{self.issuer.rstrip('/')}/protocol/openid-connect/{name}"


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired or not meant for us: 401."""


class KeySource(Protocol):
    async def key(self, kid: str) -> Any:
        """The public key with this kid; InvalidToken if there is none, Unavailable if the source cannot answer."""
        ...


class JwksKeys:
    """The realm's signing keys, fetched over HTTP and cached. A stale set keeps serving while the provider is
    away (tokens signed by known keys still validate); with no set at all the answer is 503, never a 500."""

    def __init__(self, settings: AuthSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._transport = transport  # tests: httpx.MockTransport
        self._keys: dict[str, Any] = {}
        self._fetched = 0.0  # monotonic time of the last attempt (success or not)
        self._loaded = False
        self._attempts = 0
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Any:
        s = self._settings
        if not self._loaded or time.monotonic() - self._fetched > s.jwks_cache_seconds:
            await self._refresh(self._attempts)
        found = self._keys.get(kid)
        if found is None and time.monotonic() - self._fetched >= s.jwks_min_refetch_seconds:
            await self._refresh(self._attempts)  # the realm may have rotated: one more look
            found = self._keys.get(kid)
        if found is None:
            raise InvalidToken(f"unknown signing key {kid!r}")
        return found

    async def _refresh(self, seen: int) -> None:
        """One fetch for all the requests that found the set stale together (`seen`: the attempts they saw)."""
        async with self._lock:
            if self._attempts == seen:
                self._attempts += 1
                self._fetched = time.monotonic()
                try:
                    self._keys = await self._fetch()
                    self._loaded = True
                except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as exc:
                    log.warning("cannot fetch the JWKS from %s: %r", self._settings.jwks(), exc)
        if not self._loaded:
            raise Unavailable(f"{IDENTITY_PROVIDER} no está disponible en este momento; reintente en unos segundos")

    async def _fetch(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=self._settings.jwks_timeout_seconds, transport=self._transport) as http:
            answer = await http.get(self._settings.jwks())
            answer.raise_for_status()
            document = answer.json()
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        # Keycloak also publishes an encryption key (use=enc): only signing keys may verify a token.
        signing = [k for k in document.get("keys", []) if k.get("use", "sig") == "sig" and k.get("kty") == "RSA"]
        keys = jwt.PyJWKSet.from_dict({"keys": signing}).keys
        return {k.key_id: k.key for k in keys if k.key_id}


class TokenValidator:
    def __init__(self, keys: KeySource, settings: AuthSettings) -> None:
        self._keys = keys
        self._settings = settings

    async def principal(self, token: str) -> Principal:
        """The caller a token names; InvalidToken (401) or Unavailable (503, the keys cannot be fetched)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        # Checked before any key lookup: an alg we never accept must not even cost a JWKS refetch.
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key")
        key = await self._keys.key(kid)
        s = self._settings
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return principal_of(claims)


def principal_of(claims: dict[str, Any]) -> Principal:
    """The Principal of validated claims (Keycloak's: realm_access.roles, preferred_username, cliente_id)."""
    access = claims.get("realm_access")
    raw_roles = access.get("roles", []) if isinstance(access, dict) else []
    roles = frozenset(r for r in raw_roles if isinstance(r, str))
    username = str(claims.get("preferred_username") or claims["sub"])
    # Keycloak names a client's service account `service-account-<client>`; nobody else can take that name.
    authtype: AuthType = "service_account" if username.startswith("service-account-") else "user"
    return Principal(
        subject=str(claims["sub"]),
        username=username,
        authtype=authtype,
        roles=roles,
        cliente_id=_cliente_id(claims.get("cliente_id")) if "cliente" in roles else None,
    )


def _cliente_id(value: Any) -> int | None:
    # A user attribute may arrive as a string (or a one-element list) depending on the mapper's type.
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value) or None
    return None
