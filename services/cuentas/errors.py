"""The cuentas error tree; api.py needs no mapping of its own since the platform app translates DomainError.

DomainError (services.platform.errors)
├── NotFound  -> 404
│   ├── CuentaNoEncontrada
│   ├── TipoCuentaNoEncontrado
│   └── ClienteNoEncontrado
├── Conflict  -> 409
│   ├── SaldoInsuficiente
│   ├── CuentaNoActiva          (balance change on a blocked/closed account)
│   ├── TransicionInvalida      (estado state machine)
│   ├── SaldoNoCero             (close or delete with money in the account)
│   ├── SaldoExcedido           (a deposit beyond the per-account ceiling, contracts.money.MAX_BALANCE)
│   ├── LimiteDiarioExcedido    (a withdrawal beyond the account's daily limit)
│   └── ClienteNoActivo
├── Invalid   -> 422
└── Unavailable -> 503 + Retry-After
    └── SinNumeroLibre (every random account number drawn was taken: practically never; retry)
"""

from decimal import Decimal

from contracts.money import MAX_BALANCE
from services.platform.errors import Conflict, NotFound, Unavailable


class CuentaNoEncontrada(NotFound):
    error = "Cuenta no encontrada"

    def __init__(self, cuenta: int | str) -> None:
        super().__init__(f"Cuenta {cuenta} no encontrada")


class TipoCuentaNoEncontrado(NotFound):
    error = "Tipo de cuenta no encontrado"

    def __init__(self, tipo_cuenta_id: int) -> None:
        super().__init__(f"Tipo de cuenta {tipo_cuenta_id} no encontrado")


class ClienteNoEncontrado(NotFound):
    error = "Cliente no encontrado"

    def __init__(self, cliente_id: int) -> None:
        super().__init__(f"Cliente {cliente_id} no encontrado")


class ClienteNoActivo(Conflict):
    error = "Cliente no activo"

    def __init__(self, cliente_id: int, estado: str | None) -> None:
        super().__init__(f"El cliente {cliente_id} no está activo (estado: {estado})")


class SaldoInsuficiente(Conflict):
    error = "Saldo insuficiente"

    def __init__(self) -> None:
        super().__init__("Saldo insuficiente")


class CuentaNoActiva(Conflict):
    error = "Cuenta no activa"

    def __init__(self, estado: str) -> None:
        super().__init__(f"La cuenta no está activa (estado: {estado})")


class TransicionInvalida(Conflict):
    error = "Cambio de estado no permitido"

    def __init__(self, actual: str, nuevo: str) -> None:
        super().__init__(f"No se puede pasar una cuenta de {actual} a {nuevo}")


class SaldoNoCero(Conflict):
    error = "Saldo distinto de cero"

    def __init__(self, accion: str, saldo: Decimal) -> None:
        super().__init__(f"No se puede {accion} una cuenta con saldo {saldo:.2f}; el saldo debe ser 0.00")


class SaldoExcedido(Conflict):
    error = "Saldo máximo excedido"

    def __init__(self) -> None:
        super().__init__(f"El saldo resultante excedería el máximo por cuenta ({MAX_BALANCE:.2f})")


class LimiteDiarioExcedido(Conflict):
    error = "Límite diario excedido"

    def __init__(self, detalle: str) -> None:
        # The saga's motivo text (transacciones writes "MOTIVO: detalle" too), so clients match one string.
        super().__init__(f"LIMITE_DIARIO_EXCEDIDO: {detalle}")


class SinNumeroLibre(Unavailable):
    error = "Número de cuenta no disponible"

    def __init__(self) -> None:
        super().__init__("No se pudo asignar un número de cuenta libre; reintente")
