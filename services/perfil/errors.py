"""Errors of the perfil service, translated to HTTP by the platform's handlers.

DomainError (services.platform.errors)
├── NotFound
│   └── PerfilNoEncontrado   unknown or deleted cliente -> 404
└── ViewUnavailable (503)    the view store cannot be reached
"""

from services.platform.errors import DomainError, NotFound


class PerfilNoEncontrado(NotFound):
    def __init__(self, cliente_id: int) -> None:
        super().__init__(f"Cliente {cliente_id} no encontrado")


class ViewUnavailable(DomainError):
    status_code = 503

    def __init__(self) -> None:
        super().__init__("La vista de perfiles no está disponible; reintente en unos segundos")
