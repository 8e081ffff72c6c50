"""The token validator with locally generated RSA keys: what a valid Keycloak token yields, and every way a token
is refused (expired, other issuer or audience, alg none/HS256, unknown kid after one refetch); the JWKS cache."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.platform.auth import AuthSettings, InvalidToken, JwksKeys, TokenValidator
from services.platform.errors import Unavailable
from services.platform.principal import Principal
from tests.signing import SETTINGS, TestKeys

KEYS = TestKeys()


def _jwk(keys: TestKeys) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(keys.private.public_key()))
    return jwk | {"kid": keys.kid, "use": "sig", "alg": "RS256"}


async def test_un_token_valido_da_el_principal() -> None:
    principal = await KEYS.validator().principal(KEYS.token(("cliente",), cliente_id=7))
    assert principal == Principal(
        subject="sub-cliente-7", username="cliente", authtype="user", roles=frozenset({"cliente"}), cliente_id=7
    )


async def test_una_cuenta_de_servicio_se_reconoce_por_su_nombre() -> None:
    token = KEYS.token(("admin",), preferred_username="service-account-cloudbank-cli")
    principal = await KEYS.validator().principal(token)
    assert principal.authtype == "service_account"
    assert principal.cliente_id is None


async def test_cliente_id_solo_para_el_rol_cliente_y_como_entero() -> None:
    staff = await KEYS.validator().principal(KEYS.token(("cajero",), cliente_id=3))
    assert staff.cliente_id is None
    texto = await KEYS.validator().principal(KEYS.token(("cliente",), cliente_id="12"))  # type: ignore[arg-type]
    assert texto.cliente_id == 12
    basura = await KEYS.validator().principal(KEYS.token(("cliente",), cliente_id="12; DROP"))  # type: ignore[arg-type]
    assert basura.cliente_id is None


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": int(time.time()) - 31}, "expired"),
        ({"iss": "http://otro/realms/cloudbank"}, "issuer"),
        ({"aud": "account"}, "audience"),
        ({"iat": None}, "iat"),
        ({"sub": None}, "sub"),
    ],
)
async def test_tokens_rechazados_por_sus_claims(claims: dict[str, Any], why: str) -> None:
    token = KEYS.token(("admin",), **{k: v for k, v in claims.items() if v is not None})
    if None in claims.values():  # a required claim left out
        payload = jwt.decode(token, options={"verify_signature": False})
        for name in [k for k, v in claims.items() if v is None]:
            del payload[name]
        token = jwt.encode(payload, KEYS.private, algorithm="RS256", headers={"kid": KEYS.kid})
    with pytest.raises(InvalidToken):
        await KEYS.validator().principal(token)


async def test_la_holgura_admite_un_reloj_algo_adelantado() -> None:
    token = KEYS.token(("admin",), exp=int(time.time()) - 10)  # within the 30 s leeway
    assert (await KEYS.validator().principal(token)).roles == {"admin"}


async def test_alg_none_y_hs256_se_rechazan() -> None:
    payload = jwt.decode(KEYS.token(("admin",)), options={"verify_signature": False})
    public_pem = KEYS.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "none", "kid": KEYS.kid, "typ": "JWT"}

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64(header)}.{b64(payload)}."
    # The classic confusion attack: HMAC keyed with the (public) RSA key.
    hs_header = {"alg": "HS256", "kid": KEYS.kid, "typ": "JWT"}
    signing_input = f"{b64(hs_header)}.{b64(payload)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    for token in (unsigned, forged):
        with pytest.raises(InvalidToken, match="algorithm"):
            await KEYS.validator().principal(token)


async def test_firma_de_otra_clave_con_el_mismo_kid_se_rechaza() -> None:
    impostor = TestKeys(kid=KEYS.kid)
    with pytest.raises(InvalidToken):
        await KEYS.validator().principal(impostor.token(("admin",)))


async def test_basura_se_rechaza() -> None:
    for token in ("", "abc", "a.b.c", "e30.e30.e30"):
        with pytest.raises(InvalidToken):
            await KEYS.validator().principal(token)


class Jwks:
    """A JWKS endpoint whose key set can change (rotation) or go away."""

    def __init__(self, *keys: TestKeys) -> None:
        self.keys = list(keys)
        self.calls = 0
        self.down = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("refused", request=request)
        enc = {"kid": "enc-key", "kty": "RSA", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"}
        return httpx.Response(200, json={"keys": [enc, *(_jwk(k) for k in self.keys)]})

    def validator(self, **settings: Any) -> TokenValidator:
        s = AuthSettings(issuer=SETTINGS.issuer, audience=SETTINGS.audience, **settings)
        return TokenValidator(JwksKeys(s, transport=httpx.MockTransport(self.handler)), s)


async def test_el_jwks_se_descarga_una_vez_y_se_guarda() -> None:
    jwks = Jwks(KEYS)
    validator = jwks.validator()
    for _ in range(3):
        await validator.principal(KEYS.token(("admin",)))
    assert jwks.calls == 1


async def test_un_kid_nuevo_vuelve_a_descargar_el_jwks_una_vez() -> None:
    jwks = Jwks(KEYS)
    validator = jwks.validator(jwks_min_refetch_seconds=0)
    await validator.principal(KEYS.token(("admin",)))
    rotated = TestKeys(kid="rotated")
    jwks.keys.append(rotated)  # the realm rotated its keys
    assert (await validator.principal(rotated.token(("cajero",)))).roles == {"cajero"}
    assert jwks.calls == 2
    with pytest.raises(InvalidToken, match="unknown signing key"):
        await validator.principal(TestKeys(kid="nadie").token(("admin",)))
    assert jwks.calls == 3  # one refetch for the unknown kid, then refused


async def test_los_kid_desconocidos_no_descargan_el_jwks_en_cada_peticion() -> None:
    jwks = Jwks(KEYS)
    validator = jwks.validator(jwks_min_refetch_seconds=60)
    await validator.principal(KEYS.token(("admin",)))
    forged = TestKeys(kid="forjada")
    for _ in range(5):
        with pytest.raises(InvalidToken):
            await validator.principal(forged.token(("admin",)))
    assert jwks.calls == 1


async def test_sin_jwks_es_no_disponible_y_con_jwks_viejo_se_sigue_validando() -> None:
    jwks = Jwks(KEYS)
    jwks.down = True
    validator = jwks.validator(jwks_cache_seconds=1e-9)  # every call finds the set stale
    with pytest.raises(Unavailable):
        await validator.principal(KEYS.token(("admin",)))
    jwks.down = False
    await validator.principal(KEYS.token(("admin",)))
    jwks.down = True
    calls = jwks.calls
    assert (await validator.principal(KEYS.token(("admin",)))).roles == {"admin"}  # the refetch failed: kept set
    assert jwks.calls == calls + 1


def test_settings_por_defecto_del_contrato() -> None:
    s = AuthSettings()
    assert s.jwks() == "http://127.0.0.1:8180/realms/cloudbank/protocol/openid-connect/certs"
    assert (s.audience, s.leeway_seconds) == ("cloudbank-api", 30)


class CountingKeys(TestKeys):
    """TestKeys that count the key lookups: one per token whose signature is checked."""

    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    async def key(self, kid: str) -> Any:
        self.lookups += 1
        return await super().key(kid)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_un_token_ya_validado_no_se_vuelve_a_verificar_hasta_que_caduca_el_recuerdo() -> None:
    keys, clock = CountingKeys(), Clock()
    validator = TokenValidator(keys, SETTINGS, clock=clock)
    token = keys.token(("cajero",))
    first = await validator.principal(token)
    assert await validator.principal(token) == first
    assert keys.lookups == 1
    clock.now += SETTINGS.verified_cache_seconds + 1  # remembered no longer: checked in full again
    assert await validator.principal(token) == first
    assert keys.lookups == 2


async def test_un_token_recordado_caduca_con_su_exp() -> None:
    keys, clock = CountingKeys(), Clock()
    validator = TokenValidator(keys, SETTINGS, clock=clock)
    token = keys.token(("admin",), exp=int(clock.now) + 5)
    await validator.principal(token)
    await validator.principal(token)
    assert keys.lookups == 1
    # Within the cache's 60 s but past exp and the leeway: checked in full again (PyJWT reads the real clock, by
    # which the token is still valid, so the proof is the second key lookup; test_tokens_rechazados_por_sus_claims
    # shows that an expired token is refused).
    clock.now += 5 + SETTINGS.leeway_seconds + 1
    await validator.principal(token)
    assert keys.lookups == 2


async def test_solo_el_mismo_token_exacto_se_toma_sin_verificar() -> None:
    keys = CountingKeys()
    validator = TokenValidator(keys, SETTINGS)
    token = keys.token(("admin",))
    await validator.principal(token)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    with pytest.raises(InvalidToken):
        await validator.principal(forged)
    other = keys.token(("admin",), cliente_id=9)
    assert (await validator.principal(other)).subject == "sub-admin-9"
    assert keys.lookups == 3


async def test_con_cero_segundos_se_verifica_cada_peticion() -> None:
    keys = CountingKeys()
    s = SETTINGS.model_copy(update={"verified_cache_seconds": 0.0})
    validator = TokenValidator(keys, s)
    token = keys.token(("admin",))
    for _ in range(3):
        await validator.principal(token)
    assert keys.lookups == 3


async def test_un_token_rechazado_no_se_recuerda() -> None:
    keys = CountingKeys()
    validator = TokenValidator(keys, SETTINGS)
    token = keys.token(("admin",), aud="account")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await validator.principal(token)
    assert keys.lookups == 2
