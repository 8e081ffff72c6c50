"""What a clientes route may ask for: the lifespan's typed State, read through Annotated aliases."""

from typing import Annotated

from fastapi import Depends

from services.clientes.service import ClientesService
from services.clientes.settings import ClientesSettings
from services.platform.service_app import ServiceState, from_state


class State(ServiceState):
    settings: ClientesSettings
    service: ClientesService


ServiceDep = Annotated[ClientesService, Depends(from_state("service"))]
SettingsDep = Annotated[ClientesSettings, Depends(from_state("settings"))]
