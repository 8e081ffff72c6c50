"""Errors of the perfil service, translated to HTTP by the platform's handlers.

DomainError (services.platform.errors)
└── NotFound
    └── PerfilNoEncontrado   unknown or deleted cliente -> 404

The view store being away is answered 503 by the platform (services.platform.outages), like every service.
"""

from services.platform.errors import NotFound


class PerfilNoEncontrado(NotFound):
    def __init__(self, cliente_id: int) -> None:
        super().__init__(f"Cliente {cliente_id} no encontrado")
