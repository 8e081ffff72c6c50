"""The one shape of a service's app: the base app (error path, CORS), the service's routers, a lifespan that opens
the service's resources (or takes a test's) and yields a typed State, and /health asking that State's probes.

    create_app(settings, resources=None)       in services/<svc>/main.py, the only wiring
      └── create_service_app(settings, lifespan=service_lifespan(state, resources, running), routers=...)
            ├── lifespan: `running(settings)` opens and closes (pools, producer, workers) -> Resources
            │             or the Resources a test passed (already open; the test closes them)
            │             -> state(resources): the State every request sees as request.state
            ├── GET /health: State["probes"] really probed (services.platform.health)
            └── every error as problem+json, a dependency away as 503 (services.platform.app)
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypedDict, TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from services.platform import metrics
from services.platform.app import ErrorBody, create_base_app
from services.platform.docs import serve_docs
from services.platform.health import Probes, health_response
from services.platform.policy import ServicePolicy
from services.platform.settings import ServiceSettings
from services.platform.telemetry import observe


class ServiceState(TypedDict):
    """What every service's lifespan yields; each service's State adds what its routes read."""

    probes: Probes  # what /health asks: "database" (needed by requests) and "kafka" (background work only)


R = TypeVar("R")
S = TypeVar("S", bound=ServiceState)


def service_lifespan(
    state: Callable[[R], S], resources: R | None, running: Callable[[], AbstractAsyncContextManager[R]]
) -> Callable[[FastAPI], AbstractAsyncContextManager[S]]:
    """Requests see `state(resources)`: the resources a test passed (left open, the test owns them), else what
    `running()` opens for the process's life and closes at shutdown."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[S]:
        if resources is not None:
            yield state(resources)
            return
        async with running() as opened:
            yield state(opened)

    return lifespan


def from_state(key: str) -> Callable[[Request], Awaitable[Any]]:
    """A FastAPI dependency reading `key` of the lifespan's State (the services' dependencies.py type it)."""

    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a needless hop per request.
    async def read(request: Request) -> Any:
        return getattr(request.state, key)

    read.__name__ = f"state_{key}"
    return read


def service_name(settings: ServiceSettings) -> str:
    """`clientes` for CLIENTES_ settings: the name every metric series and <SERVICE>_INSTANCE go by."""
    return str(settings.model_config.get("env_prefix") or "service").rstrip("_").lower()


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[ServiceState]],
    routers: Sequence[APIRouter],
    policy: ServicePolicy,
    health_timeout: float = 2.0,
    health_facts: Mapping[str, str] | None = None,
    error_body: ErrorBody | None = None,
) -> FastAPI:
    app = create_base_app(
        title=title,
        version=settings.version,
        cors_origins=settings.cors_origins,
        policy=policy,
        lifespan=lifespan,
        description=description,
        error_body=error_body,
    )
    # Read per request by services.platform.failpoints (off unless <SERVICE>_FAULT_INJECTION=1, never in production).
    app.state.fault_injection = settings.fault_injection
    for router in routers:
        app.include_router(router)
    serve_docs(app)  # /docs and /redoc with their assets served here: they work without internet
    metrics.install(app, service_name(settings))
    observe(app)  # request ids, JSON access lines, server spans (services.platform.telemetry)

    @app.get("/health", tags=["health"])
    async def health(request: Request) -> JSONResponse:
        """The service's dependencies really probed: 503 when one a request needs is down (services.platform.health)."""
        probes: Probes = request.state.probes
        return await health_response(settings.version, probes, timeout=health_timeout, facts=health_facts)

    return app
