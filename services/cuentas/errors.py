"""The cuentas error tree; api.py needs no mapping of its own since the platform app translates DomainError.

DomainError (services.platform.errors)
├── NotFound  -> 404
│   ├── CuentaNoEncontrada
│   ├── TipoCuentaNoEncontrado
│   ├── ClienteNoEncontrado
│   └── RetencionNoEncontrada
├── Conflict  -> 409
│   ├── SaldoInsuficiente       (a debit or a new hold beyond the available balance, saldo − active holds)
│   ├── RetencionNoActiva       (capture/void of a hold already captured, voided or expired, or past its vence)
│   ├── CapturaExcedeRetencion  (capturing more than the hold reserves)
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
from typing import Any

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
    """`detail` stays the phrase the original clients compare; `message` names the available balance (saldo −
    active holds) and what was asked, and the body carries `motivo` and `saldo_disponible`."""

    error = "Saldo insuficiente"

    def __init__(self, disponible: Decimal | None = None, requerido: Decimal | None = None) -> None:
        super().__init__("Saldo insuficiente")
        self.disponible = disponible
        if disponible is not None and requerido is not None:
            self.sentence = f"Saldo insuficiente: disponible {disponible:.2f}, requerido {requerido:.2f}"

    def extensions(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"motivo": "SALDO_INSUFICIENTE"}
        if self.disponible is not None:
            extra["saldo_disponible"] = f"{self.disponible:.2f}"
        return extra


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


class RetencionNoEncontrada(NotFound):
    error = "Retención no encontrada"

    def __init__(self, cuenta_id: int, retencion_id: int) -> None:
        super().__init__(f"Retención {retencion_id} de la cuenta {cuenta_id} no encontrada")


class RetencionNoActiva(Conflict):
    """A hold already captured, voided or expired (also one whose vence has passed, before the expiry task ran)."""

    error = "Retención no activa"

    def __init__(self, retencion_id: int, estado: str, detalle: str | None = None) -> None:
        super().__init__(detalle or f"La retención {retencion_id} no está activa (estado: {estado})")
        self.estado = estado

    def extensions(self) -> dict[str, Any]:
        return {"estado": self.estado}


class CapturaExcedeRetencion(Conflict):
    error = "Captura mayor que la retención"
    field = "monto"

    def __init__(self, monto: Decimal, retenido: Decimal) -> None:
        super().__init__(f"El monto {monto:.2f} excede lo retenido ({retenido:.2f})")
