"""Pure rules of cuentas: the records the service works on, account numbers, the estado state machine and
how a movement changes a saldo. No I/O."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final, get_args

from contracts.cuentas import Causa, EstadoCuenta, Operacion
from contracts.envelope import AuthContext
from contracts.money import MAX_BALANCE, Moneda
from services.cuentas.errors import SaldoExcedido, SaldoInsuficiente, SaldoNoCero, TransicionInvalida

ESTADOS: Final[tuple[str, ...]] = get_args(EstadoCuenta)
# Ids are BIGINT / INT columns; anything outside cannot name a row (and would overflow the driver).
ID_MAX: Final = 2**63 - 1
TIPO_ID_MAX: Final = 2**31 - 1
# The per-account balance ceiling: the largest a DECIMAL(15,2) column holds (why this value: contracts.money).
SALDO_MAX: Final = MAX_BALANCE
CERO: Final = Decimal("0.00")

NUMERO_DIGITOS: Final = 13


@dataclass(frozen=True)
class TipoCuenta:
    tipo_cuenta_id: int
    nombre: str
    descripcion: str | None
    costo_mantenimiento: Decimal
    tasa_interes: Decimal
    estado: str


@dataclass(frozen=True)
class Cuenta:
    cuenta_id: int
    cliente_id: int
    tipo_cuenta_id: int
    numero_cuenta: str
    saldo: Decimal
    moneda: Moneda
    fecha_apertura: datetime
    estado: EstadoCuenta
    tipo_cuenta_nombre: str
    tipo_cuenta_descripcion: str | None
    costo_mantenimiento: Decimal
    tasa_interes: Decimal


@dataclass(frozen=True)
class Movimiento:
    """One ledger row; `saldo_resultante` is the account's balance right after it (the statement's running balance)."""

    movimiento_id: int
    cuenta_id: int
    operacion: Operacion
    causa: Causa
    monto: Decimal
    saldo_resultante: Decimal
    fecha: datetime
    transaccion_id: str | None = None
    comando_id: str | None = None
    actor: AuthContext | None = None  # who made it (None on rows older than the columns)


# --- account numbers ------------------------------------------------------------------------------------------


def luhn_digit(payload: str) -> str:
    """The Luhn check digit to append to `payload` (digits only)."""
    total = 0
    # Walking from the right, the digit next to the (future) check digit is doubled, then every second one.
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def numero_valido(numero: str) -> bool:
    return (
        len(numero) == NUMERO_DIGITOS
        and numero.isascii()
        and numero.isdigit()
        and luhn_digit(numero[:-1]) == numero[-1]
    )


def nuevo_numero_cuenta(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """13 digits: 12 random (never from the clock, so two instances cannot collide by construction; the unique
    index catches the rare random clash and the caller retries) plus a Luhn check digit. The first digit is never 0,
    so clients that read it as a number keep all 13 digits."""
    payload = str(10 ** (NUMERO_DIGITOS - 2) + randbelow(9 * 10 ** (NUMERO_DIGITOS - 2)))
    return payload + luhn_digit(payload)


# --- estado state machine -------------------------------------------------------------------------------------

# activa <-> bloqueada; either -> cerrada, which is final.
TRANSICIONES: Final[dict[str, frozenset[str]]] = {
    "activa": frozenset({"bloqueada", "cerrada"}),
    "bloqueada": frozenset({"activa", "cerrada"}),
    "cerrada": frozenset(),
}


def cambio_de_estado(actual: EstadoCuenta, nuevo: EstadoCuenta, saldo: Decimal) -> bool:
    """Validate a change of estado; False when it is no change at all (nothing to record or announce)."""
    if actual == nuevo:
        return False
    if nuevo not in TRANSICIONES[actual]:
        raise TransicionInvalida(actual, nuevo)
    if nuevo == "cerrada" and saldo != 0:
        raise SaldoNoCero("cerrar", saldo)
    return True


def validar_eliminacion(saldo: Decimal) -> None:
    if saldo != 0:
        raise SaldoNoCero("eliminar", saldo)


# --- balance movements ----------------------------------------------------------------------------------------


def saldo_tras(saldo: Decimal, operacion: Operacion, monto: Decimal) -> Decimal:
    """The balance after moving `monto` (> 0); refuses overdrafts and balances a DECIMAL(15,2) cannot hold."""
    nuevo = saldo + monto if operacion == "CREDITO" else saldo - monto
    if nuevo < 0:
        raise SaldoInsuficiente()
    if nuevo > SALDO_MAX:
        raise SaldoExcedido()
    return nuevo
