"""Bearer tokens for the bank CLI: OAuth2 client credentials (`cloudbank-cli`) from Keycloak, cached, renewed early."""

import asyncio
import os
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass

import httpx

DEFAULT_ISSUER = "http://127.0.0.1:8180/realms/cloudbank"
CLIENT_ID = "cloudbank-cli"
DEV_CLIENT_SECRET = "cli-dev-secret"  # the realm file's development default; refused with CLOUDBANK_ENV=production
# Renew when less than this is left, so a token never expires between being attached and being checked (the
# services allow a little clock skew, a slow request or a retried batch may take longer).
RENEW_MARGIN_SECONDS = 60.0


class AuthError(RuntimeError):
    """No token could be had: wrong secret, unknown client, or Keycloak unreachable; the message says which."""


class KeycloakUnreachable(AuthError):
    """Keycloak did not answer at the token URL."""

    def __init__(self, url: str, cause: Exception) -> None:
        super().__init__(f"Keycloak unreachable at {url}: {cause!r}")
        self.url = url


class CredentialsRefused(AuthError):
    """Keycloak answered, and refused the CLI's client credentials."""


@dataclass(frozen=True, slots=True)
class AuthConfig:
    issuer: str = DEFAULT_ISSUER
    client_id: str = CLIENT_ID
    client_secret: str = DEV_CLIENT_SECRET
    # Where to ask for tokens when that is not the issuer's address (docker-compose: the issuer is the address the
    # browsers see, containers reach Keycloak by its service name). Empty: the issuer's token endpoint.
    token_endpoint: str = ""

    @property
    def token_url(self) -> str:
        return self.token_endpoint or f"{self.issuer.rstrip('/')}/protocol/openid-connect/token"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "AuthConfig":
        """AUTH_ISSUER, AUTH_TOKEN_URL, BANK_CLIENT_ID, BANK_CLIENT_SECRET (dev defaults; production refuses the secret's)."""
        env = os.environ if env is None else env
        secret = env.get("BANK_CLIENT_SECRET") or DEV_CLIENT_SECRET
        if env.get("CLOUDBANK_ENV", "development").strip().lower() == "production" and secret == DEV_CLIENT_SECRET:
            raise AuthError(
                "BANK_CLIENT_SECRET must be set to the real secret of cloudbank-cli with CLOUDBANK_ENV=production"
            )
        return cls(
            issuer=env.get("AUTH_ISSUER") or DEFAULT_ISSUER,
            client_id=env.get("BANK_CLIENT_ID") or CLIENT_ID,
            client_secret=secret,
            token_endpoint=env.get("AUTH_TOKEN_URL", ""),
        )


class TokenSource:
    """One access token shared by every request of a process; fetched on first use and again shortly before expiry."""

    def __init__(
        self,
        config: AuthConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._transport = transport  # tests only: a fake Keycloak
        self._clock = clock
        self._timeout = timeout
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:  # concurrent requests wait for one fetch instead of each asking Keycloak
            if self._token is None or self._clock() >= self._renew_at:
                self._token, lifetime = await self._fetch()
                # A short-lived token is renewed at half its life rather than never being considered fresh.
                self._renew_at = self._clock() + max(lifetime - RENEW_MARGIN_SECONDS, lifetime / 2)
            return self._token

    def invalidate(self) -> None:
        """Forget the token (e.g. a service answered 401: revoked, or Keycloak's keys rotated)."""
        self._token = None

    async def _fetch(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
        }
        async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as http:
            try:
                resp = await http.post(self.config.token_url, data=form)
            except httpx.TransportError as exc:
                raise KeycloakUnreachable(self.config.token_url, exc) from exc
        if resp.status_code != 200:
            raise CredentialsRefused(
                f"Keycloak refused client credentials for {self.config.client_id} ({resp.status_code}): {_reason(resp)}"
                " (check BANK_CLIENT_SECRET and AUTH_ISSUER)"
            )
        body = resp.json()
        return str(body["access_token"]), float(body.get("expires_in", 60))


class BearerAuth(httpx.Auth):
    """httpx auth: `Authorization: Bearer <token>` on every request; on a 401 renews the token and retries once."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self.source.token()}"
        response = yield request
        if response.status_code == 401:
            self.source.invalidate()
            request.headers["Authorization"] = f"Bearer {await self.source.token()}"
            yield request


def bearer_auth(env: Mapping[str, str] | None = None) -> BearerAuth:
    """The CLI's auth for httpx clients, configured from the environment."""
    return BearerAuth(TokenSource(AuthConfig.from_env(env)))


def _reason(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    return str(body.get("error_description") or body.get("error") or body)
