"""`bank serve SERVICE`: run one service process (API + its workers) under uvicorn."""

import importlib
from typing import Annotated

import typer
import uvicorn

SERVICES = {
    "clientes": ("services.clientes.main", 8001),
    "cuentas": ("services.cuentas.main", 8002),
    "perfil": ("services.perfil.main", 6000),
    "transacciones": ("services.transacciones.main", 8004),
    "analytics": ("services.analytics.main", 8000),
}


def serve(
    service: Annotated[str, typer.Argument(help=", ".join(SERVICES))],
    port: Annotated[int | None, typer.Option(help="defaults to the service's contract port")] = None,
    host: str = "127.0.0.1",
) -> None:
    """Run SERVICE's FastAPI app; its module exposes `create_app()` reading settings from the environment."""
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    module_name, default_port = SERVICES[service]
    from services.platform import gc_policy
    from services.platform.telemetry import start_process  # lazy: the OTel SDK is no cost to other commands

    start_process(service)  # JSON logs and tracing before anything logs or opens a connection
    module = importlib.import_module(module_name)
    app = module.create_app()
    gc_policy.tune()
    uvicorn.run(
        app,
        host=host,
        port=port or default_port,
        log_level="warning",
        access_log=False,  # services.platform.logs.RequestLog writes them, in JSON with the request's ids
        log_config=None,  # keep the JSON logging start_process set up
        timeout_graceful_shutdown=5,
    )
