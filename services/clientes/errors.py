"""The clientes error tree (translated to HTTP by services.platform.app).

DomainError (services.platform.errors)
├── NotFound  -> 404
│   └── ClienteNoEncontrado
├── Conflict  -> 409
│   ├── DatoDuplicado          email or numero_documento already belongs to another live cliente
│   └── ClienteConSaldo        the cliente still has open accounts holding money
└── Invalid   -> 422
    └── DatoInvalido           a value the database refused (a rule the schema could not express)
"""

from services.platform.errors import Conflict, Invalid, NotFound


class ClienteNoEncontrado(NotFound):
    error = "Cliente no encontrado"

    def __init__(self, what: object) -> None:
        super().__init__(f"Cliente no encontrado: {what}")


class DatoDuplicado(Conflict):
    error = "Dato duplicado"

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} ya registrado por otro cliente")
        self.field = field


class ClienteConSaldo(Conflict):
    error = "Cliente con saldo"

    def __init__(self, cliente_id: int) -> None:
        super().__init__(f"El cliente {cliente_id} tiene cuentas abiertas con saldo; no puede eliminarse")


class DatoInvalido(Invalid):
    pass
