"""What an analytics route may ask for: the lifespan's typed State, read through Annotated aliases."""

from typing import Annotated

from fastapi import Depends

from services.analytics.service import AnalyticsService
from services.analytics.settings import AnalyticsSettings
from services.platform.service_app import ServiceState, from_state


class State(ServiceState):
    settings: AnalyticsSettings
    service: AnalyticsService


ServiceDep = Annotated[AnalyticsService, Depends(from_state("service"))]
SettingsDep = Annotated[AnalyticsSettings, Depends(from_state("settings"))]
