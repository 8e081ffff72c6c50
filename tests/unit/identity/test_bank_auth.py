"""bank/auth.py against a fake Keycloak: client credentials, caching, early renewal, one retry on 401, settings."""

import httpx
import pytest

from bank.auth import AuthConfig, AuthError, BearerAuth, TokenSource


class FakeKeycloak:
    """A token endpoint that counts its calls and hands out numbered tokens with the given lifetime."""

    def __init__(self, lifetime: int = 300, status: int = 200) -> None:
        self.lifetime = lifetime
        self.status = status
        self.forms: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/realms/cloudbank/protocol/openid-connect/token"
        self.forms.append(request.content.decode())
        if self.status != 200:
            return httpx.Response(self.status, json={"error": "unauthorized_client", "error_description": "bad secret"})
        return httpx.Response(200, json={"access_token": f"t{len(self.forms)}", "expires_in": self.lifetime})


def source(fake: FakeKeycloak, now: list[float]) -> TokenSource:
    return TokenSource(AuthConfig(), clock=lambda: now[0], transport=httpx.MockTransport(fake))


async def test_client_credentials_of_cloudbank_cli() -> None:
    fake = FakeKeycloak()
    assert await source(fake, [0.0]).token() == "t1"
    assert fake.forms == ["grant_type=client_credentials&client_id=cloudbank-cli&client_secret=cli-dev-secret"]


async def test_cached_then_renewed_a_minute_before_expiry() -> None:
    fake, now = FakeKeycloak(lifetime=300), [0.0]
    tokens = source(fake, now)
    assert await tokens.token() == "t1"
    now[0] = 239.0
    assert await tokens.token() == "t1"
    now[0] = 240.0
    assert await tokens.token() == "t2"


async def test_short_lived_token_renewed_at_half_its_life() -> None:
    fake, now = FakeKeycloak(lifetime=40), [0.0]
    tokens = source(fake, now)
    await tokens.token()
    now[0] = 19.0
    assert await tokens.token() == "t1"
    now[0] = 20.0
    assert await tokens.token() == "t2"


async def test_refused_credentials_are_a_clear_error() -> None:
    with pytest.raises(AuthError, match=r"refused client credentials for cloudbank-cli \(401\): bad secret"):
        await source(FakeKeycloak(status=401), [0.0]).token()


async def test_unreachable_keycloak_is_a_clear_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    tokens = TokenSource(AuthConfig(), transport=httpx.MockTransport(down))
    with pytest.raises(AuthError, match="Keycloak unreachable"):
        await tokens.token()


async def test_bearer_header_on_every_request_and_one_renewal_on_401() -> None:
    fake = FakeKeycloak()
    seen: list[str] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        # The first token is "revoked": the service refuses it once, the renewed one is accepted.
        return httpx.Response(401 if request.headers["Authorization"] == "Bearer t1" else 200)

    auth = BearerAuth(source(fake, [0.0]))
    async with httpx.AsyncClient(transport=httpx.MockTransport(service), auth=auth) as http:
        assert (await http.get("http://svc/transacciones")).status_code == 200
        assert (await http.get("http://svc/transacciones")).status_code == 200
    assert seen == ["Bearer t1", "Bearer t2", "Bearer t2"]


def test_settings_from_the_environment() -> None:
    config = AuthConfig.from_env({"AUTH_ISSUER": "http://kc:8080/realms/cloudbank", "BANK_CLIENT_SECRET": "s"})
    assert config.token_url == "http://kc:8080/realms/cloudbank/protocol/openid-connect/token"
    assert (config.client_id, config.client_secret) == ("cloudbank-cli", "s")
    assert AuthConfig.from_env({}) == AuthConfig()
    inside = AuthConfig.from_env(
        {"AUTH_TOKEN_URL": "http://keycloak:8080/realms/cloudbank/protocol/openid-connect/token"}
    )
    assert inside.token_url.startswith("http://keycloak:8080/")
    assert inside.issuer == "http://127.0.0.1:8180/realms/cloudbank"


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(AuthError, match="BANK_CLIENT_SECRET must be set"):
        AuthConfig.from_env({"CLOUDBANK_ENV": "production"})
    assert AuthConfig.from_env({"CLOUDBANK_ENV": "production", "BANK_CLIENT_SECRET": "real"}).client_secret == "real"
