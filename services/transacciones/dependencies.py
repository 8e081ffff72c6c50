"""What a transacciones route may ask for: the lifespan's typed State, read through Annotated aliases."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from services.platform.service_app import ServiceState, from_state
from services.transacciones.cambios import Cambios
from services.transacciones.propietarios import Propietarios
from services.transacciones.service import TransaccionesService
from services.transacciones.settings import TransaccionesSettings

Stats = Callable[[], dict[str, Any]]
"""The process's counters (writer rounds, relay backlog, sagas in progress, ...), read by GET /stats."""


class State(ServiceState):
    settings: TransaccionesSettings
    service: TransaccionesService
    stats: Stats
    propietarios: Propietarios
    cambios: Cambios


ServiceDep = Annotated[TransaccionesService, Depends(from_state("service"))]
SettingsDep = Annotated[TransaccionesSettings, Depends(from_state("settings"))]
StatsDep = Annotated[Stats, Depends(from_state("stats"))]
PropietariosDep = Annotated[Propietarios, Depends(from_state("propietarios"))]
CambiosDep = Annotated[Cambios, Depends(from_state("cambios"))]


async def _authorization(request: Request) -> str | None:  # async: no worker-thread hop (service_app.from_state)
    return request.headers.get("authorization")


Credenciales = Annotated[str | None, Depends(_authorization)]
"""The caller's Authorization header as sent (a staff list passes it on to the other instances, recientes.py)."""
