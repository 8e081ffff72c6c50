"""Bearer tokens: a Keycloak access token validated (RS256 against the realm's JWKS, issuer, audience, expiry with a
small leeway) into the Principal it names. The JWKS is cached; a token signed with a key we do not know yet (the
realm rotated its keys) makes us fetch the set again, at most once per `jwks_min_refetch_seconds`."""

import asyncio
import logging
import time
from collections.abc import Callable
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
MAX_VERIFIED = 10_000  # tokens remembered at most (one per signed-in user or service in the last minute)


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
    jwks_timeout_seconds: float = Field(10.0, gt=0)
    swagger_client_id: str = Field("cloudbank-swagger", description="the public client Swagger UI's Authorize uses")
    verified_cache_seconds: float = Field(
        60.0, ge=0, description="a token validated once is taken without a new check this long (0: check every time)"
    )

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
    """Validates tokens and remembers the ones it validated: a client sends the same token with every request for
    minutes, and checking its RS256 signature again cost ~130 µs a request (2.5% of the transfers service's CPU
    under the saga benchmark). A remembered token is taken until its `exp` (plus the leeway) or for
    `verified_cache_seconds` (at most `jwks_cache_seconds`, as long as a fetched key set is trusted), whichever
    comes first.
    Only the exact token string hits: another token, even one differing in its signature, is checked in full."""

    def __init__(self, keys: KeySource, settings: AuthSettings, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._settings = settings
        self._clock = clock
        self._verified: dict[str, tuple[Principal, float]] = {}  # token -> its principal, taken until (epoch s)

    async def principal(self, token: str) -> Principal:
        """The caller a token names; InvalidToken (401) or Unavailable (503, the keys cannot be fetched)."""
        now = self._clock()
        known = self._verified.get(token)
        if known is not None:
            if now < known[1]:
                return known[0]
            del self._verified[token]
        claims = await self._claims(token)
        principal = principal_of(claims)
        s = self._settings
        keep = min(s.verified_cache_seconds, s.jwks_cache_seconds)  # never longer than the key set is trusted
        until = min(float(claims["exp"]) + s.leeway_seconds, now + keep)
        if until > now:
            if len(self._verified) >= MAX_VERIFIED:
                del self._verified[next(iter(self._verified))]  # the oldest entry
            self._verified[token] = (principal, until)
        return principal

    async def _claims(self, token: str) -> dict[str, Any]:
        """The token's claims, its signature and claims checked in full."""
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
        return claims


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
