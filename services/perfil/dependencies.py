"""What a perfil route may ask for: the lifespan's typed State, read through Annotated aliases."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.perfil.runner import LiveProjection
from services.perfil.service import ActiveView
from services.perfil.settings import PerfilSettings
from services.perfil.store import ViewStore
from services.platform.service_app import ServiceState, from_state


@dataclass
class Views:
    """The view the routes read: its store, the copy now active, and this process's live projection once its
    worker runs (it says how fresh an answer is)."""

    store: ViewStore
    view: ActiveView
    projection: LiveProjection | None = None


class State(ServiceState):
    settings: PerfilSettings
    views: Views


ViewsDep = Annotated[Views, Depends(from_state("views"))]
SettingsDep = Annotated[PerfilSettings, Depends(from_state("settings"))]
