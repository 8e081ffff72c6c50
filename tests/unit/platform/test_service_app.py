"""Every service has the one shape: create_app(settings, resources), /health registered once by the platform from
the State's probes, and resources a test passes are used as they are (never opened or closed by the app)."""

import importlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from services.platform.health import Probes
from services.platform.policy import ServicePolicy
from services.platform.service_app import ServiceState, create_service_app, service_lifespan
from services.platform.settings import ServiceSettings
from tests.asgi import in_process

SERVICES = ["clientes", "cuentas", "transacciones", "perfil", "analytics"]


@pytest.mark.parametrize("name", SERVICES)
def test_cada_servicio_declara_health_una_vez_con_la_misma_etiqueta(name: str) -> None:
    app: FastAPI = importlib.import_module(f"services.{name}.main").create_app()  # connects to nothing
    health = [r for r in app.routes if isinstance(r, APIRoute) and r.path == "/health"]
    assert [(r.methods, r.tags) for r in health] == [({"GET"}, ["health"])]


async def _up() -> None:
    return None


async def _down() -> None:
    raise ConnectionError("refused")


@dataclass
class Opened:
    probes: Probes
    closed: bool = False


def _app(resources: Opened | None, opened: list[Opened]) -> FastAPI:
    @asynccontextmanager
    async def running() -> AsyncIterator[Opened]:
        own = Opened({"database": _up})
        opened.append(own)
        try:
            yield own
        finally:
            own.closed = True

    def state(res: Opened) -> ServiceState:
        return ServiceState(probes=res.probes)

    lifespan = service_lifespan(state, resources, running)
    return create_service_app(
        ServiceSettings(version="9.9"),
        title="t",
        description="",
        lifespan=lifespan,
        routers=[],
        policy=ServicePolicy({}),
    )


async def test_sin_recursos_los_abre_y_los_cierra_al_terminar() -> None:
    opened: list[Opened] = []
    async with in_process(_app(None, opened)) as client:
        r = await client.get("/health")
        assert (r.status_code, r.json()["database"], r.json()["version"]) == (200, "connected", "9.9")
        assert [o.closed for o in opened] == [False]
    assert [o.closed for o in opened] == [True]


async def test_los_recursos_del_test_se_usan_sin_abrir_ni_cerrar_nada() -> None:
    opened: list[Opened] = []
    given = Opened({"database": _down, "kafka": _up})
    async with in_process(_app(given, opened)) as client:
        r = await client.get("/health")
    assert r.status_code == 503
    assert (r.json()["status"], r.json()["database"]) == ("unhealthy", "error: ConnectionError")
    assert (opened, given.closed) == ([], False)


def _sync_calls(routes: Iterable[BaseRoute]) -> Iterator[str]:
    """Every endpoint and dependency (at any depth) of these routes that is a plain `def`."""
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers nested
        if included is not None:
            yield from _sync_calls(included.routes)
        elif isinstance(route, APIRoute):
            pending = [route.dependant]
            while pending:
                dependant = pending.pop()
                call = dependant.call
                if call is not None and not _is_async(call):
                    yield f"{sorted(route.methods or ())} {route.path}: {getattr(call, '__qualname__', call)}"
                pending += dependant.dependencies


def _is_async(call: Callable[..., Any]) -> bool:
    target = call if inspect.isroutine(call) else type(call).__call__  # a callable instance: its __call__
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


@pytest.mark.parametrize("name", SERVICES)
def test_ninguna_ruta_salta_a_un_hilo_por_peticion(name: str) -> None:
    """FastAPI runs a plain `def` endpoint, dependency or exception handler in a worker thread: a thread wake-up and
    two GIL hand-offs on every request (the transfer POST had three of them). The docs pages are served rarely."""
    app: FastAPI = importlib.import_module(f"services.{name}.main").create_app()
    found = [c for c in _sync_calls(app.router.routes) if "/docs" not in c and "/redoc" not in c]
    found += [f"exception handler {key}" for key, handler in app.exception_handlers.items() if not _is_async(handler)]
    assert found == []
