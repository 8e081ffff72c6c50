"""Pure rules of cuentas: the records the service works on, account numbers, the estado state machine and
the one rule of whether (and how) a movement may change a saldo. No I/O."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfo

from contracts.cuentas import Asiento, Causa, EstadoCuenta, MotivoRechazo, Operacion
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

# The daily limits a debit can count against: withdrawals (teller retiro, RETIRO, PAGO_SERVICIO) and transfers out.
Cupo = Literal["RETIRO", "TRANSFERENCIA"]
CUPOS: Final[tuple[Cupo, ...]] = get_args(Cupo)
# An account's ledger day: 00:00-24:00 in Lima, whatever the (UTC) clock of the servers.
ZONA_LEDGER: Final = ZoneInfo("America/Lima")


@dataclass(frozen=True)
class LimitesDiarios:
    """Daily limits in the account's currency; None = no limit."""

    retiro: Decimal | None = None
    transferencia: Decimal | None = None

    def de(self, cupo: Cupo) -> Decimal | None:
        return self.retiro if cupo == "RETIRO" else self.transferencia

    def sobre(self, base: "LimitesDiarios") -> "LimitesDiarios":
        """These limits as an account's overrides of `base` (its tipo's): None keeps the base's."""
        return LimitesDiarios(
            self.retiro if self.retiro is not None else base.retiro,
            self.transferencia if self.transferencia is not None else base.transferencia,
        )


@dataclass(frozen=True)
class TipoCuenta:
    tipo_cuenta_id: int
    nombre: str
    descripcion: str | None
    costo_mantenimiento: Decimal
    tasa_interes: Decimal
    estado: str
    limite_retiro_diario: Decimal | None = None
    limite_transferencia_diario: Decimal | None = None

    @property
    def limites(self) -> LimitesDiarios:
        return LimitesDiarios(self.limite_retiro_diario, self.limite_transferencia_diario)


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
    # The limits in force: the account's override, else its tipo's (None = no limit).
    limite_retiro_diario: Decimal | None = None
    limite_transferencia_diario: Decimal | None = None
    retenido: Decimal = CERO  # Σ of the account's active holds (retenciones)

    @property
    def saldo_disponible(self) -> Decimal:
        """What the account may still spend: the booked saldo minus what its active holds reserve."""
        return self.saldo - self.retenido


@dataclass(frozen=True)
class CuentaBloqueada:
    """An account as read under its row lock: what deciding a movement needs, and what its event names."""

    cuenta_id: int
    cliente_id: int
    numero_cuenta: str
    saldo: Decimal
    moneda: Moneda
    estado: EstadoCuenta
    eliminada: bool = False
    limites: LimitesDiarios = field(default_factory=LimitesDiarios)  # in force (override, else the tipo's)
    retenido: Decimal = CERO  # Σ of the account's active holds: a debit may only take saldo − retenido

    @property
    def saldo_disponible(self) -> Decimal:
        return self.saldo - self.retenido


@dataclass(frozen=True)
class MovimientoNuevo:
    """A ledger row about to be written (the database assigns its movimiento_id)."""

    cuenta_id: int
    operacion: Operacion
    causa: Causa
    monto: Decimal
    saldo_resultante: Decimal
    fecha: datetime
    transaccion_id: str | None = None
    comando_id: str | None = None
    comando_original_id: str | None = None  # on a REVERSION row: the saga debit it gives back
    # Who made it: the request's caller (a saga movement: whoever asked for the transaction, as its command says).
    actor: AuthContext | None = None
    # The daily limit it counts against (a REVERSION: its debit's, giving the amount back); None: none.
    cupo_diario: Cupo | None = None
    # Its other side on the bank's own accounts (services.cuentas.asientos), written with it; empty when read back.
    asientos: tuple[Asiento, ...] = ()


@dataclass(frozen=True)
class Movimiento(MovimientoNuevo):
    """One ledger row as read back: the row that was written plus the id the database gave it. `saldo_resultante` is
    the account's balance right after it (the statement's running balance); `actor` is None on rows older than it."""

    movimiento_id: int = field(kw_only=True)


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


# --- daily limits ---------------------------------------------------------------------------------------------


def dia_ledger(instante: datetime) -> date:
    """The ledger day (Lima) an aware instant falls in."""
    return instante.astimezone(ZONA_LEDGER).date()


def ventana_del_dia(instante: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the Lima ledger day holding `instante`: what a movement's UTC fecha is compared to."""
    dia = dia_ledger(instante)
    inicio = datetime.combine(dia, time(), ZONA_LEDGER)
    fin = datetime.combine(dia + timedelta(days=1), time(), ZONA_LEDGER)
    return inicio.astimezone(UTC), fin.astimezone(UTC)


@dataclass(frozen=True)
class CupoDiario:
    """One daily limit of an account and how much of it the ledger day has used (debits minus their reversals)."""

    cupo: Cupo
    limite: Decimal | None
    usado: Decimal = CERO

    @property
    def disponible(self) -> Decimal | None:
        return None if self.limite is None else max(self.limite - self.usado, CERO)

    def rechazo(self, monto: Decimal) -> "Rechazo | None":
        """Why a debit of `monto` does not fit (reaching the limit exactly does), or None."""
        if self.limite is None or self.usado + monto <= self.limite:
            return None
        nombre = "retiro" if self.cupo == "RETIRO" else "transferencia"
        return Rechazo(
            "LIMITE_DIARIO_EXCEDIDO",
            f"Límite diario de {nombre} {self.limite:.2f}: disponible hoy {self.disponible:.2f}, requerido {monto:.2f}",
        )


@dataclass(frozen=True)
class EstadoCupo:
    """One daily limit of an account as GET /cuentas/{id}/limites shows it."""

    limite: Decimal | None  # in force; None: no limit
    origen: Literal["cuenta", "tipo"] | None  # where it comes from: the account's override or its tipo
    usado: Decimal  # today (Lima)
    disponible: Decimal | None  # None: no limit


@dataclass(frozen=True)
class LimitesCuenta:
    cuenta_id: int
    dia: date
    retiro: EstadoCupo
    transferencia: EstadoCupo


def limites_de_cuenta(
    cuenta_id: int, propios: LimitesDiarios, del_tipo: LimitesDiarios, usados: dict[Cupo, Decimal], dia: date
) -> LimitesCuenta:
    """The account's daily limits in force (its overrides, else its tipo's) and what `dia` used of them."""

    def estado(cupo: Cupo) -> EstadoCupo:
        propio, base = propios.de(cupo), del_tipo.de(cupo)
        limite = propio if propio is not None else base
        origen: Literal["cuenta", "tipo"] | None = (
            "cuenta" if propio is not None else "tipo" if base is not None else None
        )
        diario = CupoDiario(cupo, limite, usados.get(cupo, CERO))
        return EstadoCupo(limite, origen, diario.usado, diario.disponible)

    return LimitesCuenta(cuenta_id, dia, estado("RETIRO"), estado("TRANSFERENCIA"))


# --- balance movements ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rechazo:
    """Why money may not move: the motivo a saga hears (MovimientoRechazado) and a readable detalle."""

    motivo: MotivoRechazo
    detalle: str
    disponible: Decimal | None = None  # SALDO_INSUFICIENTE: the available balance (saldo − holds) it fell short of


def decidir_movimiento(
    cuenta_id: int,
    cuenta: CuentaBloqueada | None,
    operacion: Operacion,
    monto: Decimal,
    *,
    moneda: Moneda | None = None,
    reversion: bool = False,
    cupo: CupoDiario | None = None,
) -> Decimal | Rechazo:
    """THE rule of whether an account may move money: the balance after moving `monto` (> 0), or why not.

    `cuenta` is the account read under its row lock (None: no such row); `moneda` the movement's currency (None: the
    account's own, as at the teller). A debit may only take the AVAILABLE balance (saldo − active holds): money a
    hold reserves is spent only by capturing that hold (which releases it first). A `reversion` gives back a saga
    debit: it applies whatever the account's estado is now (blocked, even closed or deleted since), since refusing
    would destroy the money the debit took; only its currency and the balance ceiling can refuse it. `cupo`: the daily
    limit a debit counts against, with what the ledger day used before it (read under the same row lock); a debit the
    balance allows may still exceed it.
    """
    if reversion:
        if cuenta is None or (moneda is not None and moneda != cuenta.moneda):
            return Rechazo("COMANDO_INVALIDO", "La moneda no es la de la cuenta debitada")
    else:
        if cuenta is None or cuenta.eliminada:
            return Rechazo("CUENTA_NO_EXISTE", f"La cuenta {cuenta_id} no existe")
        if cuenta.estado == "cerrada":
            return Rechazo("CUENTA_CERRADA", f"La cuenta {cuenta.numero_cuenta} está cerrada")
        if cuenta.estado == "bloqueada":
            return Rechazo("CUENTA_BLOQUEADA", f"La cuenta {cuenta.numero_cuenta} está bloqueada")
        if moneda is not None and moneda != cuenta.moneda:
            return Rechazo(
                "MONEDA_DISTINTA", f"La cuenta {cuenta.numero_cuenta} es en {cuenta.moneda}, el movimiento en {moneda}"
            )
    disponible = max(cuenta.saldo_disponible, CERO)
    insuficiente = Rechazo(
        "SALDO_INSUFICIENTE", f"Saldo insuficiente: disponible {disponible:.2f}, requerido {monto:.2f}", disponible
    )
    if operacion == "DEBITO" and monto > disponible:
        return insuficiente
    try:
        saldo = saldo_tras(cuenta.saldo, operacion, monto)
    except SaldoInsuficiente:
        return insuficiente
    except SaldoExcedido:
        return Rechazo(
            "SALDO_EXCEDIDO",
            f"El saldo resultante excedería el máximo por cuenta ({SALDO_MAX:.2f}): "
            f"saldo {cuenta.saldo:.2f} + {monto:.2f}",
        )
    if cupo is not None and operacion == "DEBITO" and not reversion and (excede := cupo.rechazo(monto)):
        return excede
    return saldo


def saldo_tras(saldo: Decimal, operacion: Operacion, monto: Decimal) -> Decimal:
    """The balance after moving `monto` (> 0); refuses overdrafts and balances a DECIMAL(15,2) cannot hold."""
    nuevo = saldo + monto if operacion == "CREDITO" else saldo - monto
    if nuevo < 0:
        raise SaldoInsuficiente()
    if nuevo > SALDO_MAX:
        raise SaldoExcedido()
    return nuevo
