"""What a cuentas route may ask for: the lifespan's typed State, read through Annotated aliases."""

from typing import Annotated

from fastapi import Depends

from services.cuentas.service import CuentasService
from services.cuentas.settings import CuentasSettings
from services.platform.service_app import ServiceState, from_state


class State(ServiceState):
    settings: CuentasSettings
    service: CuentasService


ServiceDep = Annotated[CuentasService, Depends(from_state("service"))]
SettingsDep = Annotated[CuentasSettings, Depends(from_state("settings"))]
