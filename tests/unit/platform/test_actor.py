"""The actor of a request: the validated principal as a CloudEvents authcontext, `unauthenticated` without one."""

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from contracts.envelope import AuthContext
from services.platform.actor import UNAUTHENTICATED, ActorDep, ActorPublic, actor_of
from services.platform.principal import Principal

CAJERO = Principal(subject="s-1", username="cajero", authtype="user", roles=frozenset({"cajero"}))
CLI = Principal(
    subject="s-2", username="service-account-cloudbank-cli", authtype="service_account", roles=frozenset({"admin"})
)


def test_un_usuario_es_user_con_su_username() -> None:
    assert actor_of(CAJERO) == AuthContext(authtype="user", authid="cajero")


def test_una_cuenta_de_servicio_es_service_account() -> None:
    assert actor_of(CLI) == AuthContext(authtype="service_account", authid="service-account-cloudbank-cli")


def test_sin_principal_es_unauthenticated_sin_authid() -> None:
    assert actor_of(None) == UNAUTHENTICATED == AuthContext(authtype="unauthenticated", authid=None)


def test_la_forma_rest() -> None:
    assert ActorPublic.of(None) is None
    shown = ActorPublic.of(actor_of(CAJERO))
    assert shown is not None
    assert shown.model_dump() == {"authtype": "user", "authid": "cajero"}


def _app(principal: Principal | None) -> TestClient:
    app = FastAPI()

    async def put_principal(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if principal is not None:  # what the token validation does once a bearer token checks out
            request.state.principal = principal
        return await call_next(request)

    app.add_middleware(BaseHTTPMiddleware, dispatch=put_principal)

    @app.post("/cosas")
    async def crear(actor: ActorDep) -> dict[str, str | None]:
        return actor.to_data()

    return TestClient(app)


def test_la_dependencia_da_el_actor_de_la_peticion() -> None:
    assert _app(CAJERO).post("/cosas").json() == {"authtype": "user", "authid": "cajero"}
    assert _app(None).post("/cosas").json() == {"authtype": "unauthenticated", "authid": None}
