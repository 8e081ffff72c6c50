"""Events of the cuentas aggregate (topic bank.cuentas.v1), including the saga's replies."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from contracts import topics
from contracts.base import DomainEvent
from contracts.money import Moneda, Money, PositiveMoney

EstadoCuenta = Literal["activa", "bloqueada", "cerrada"]
Operacion = Literal["CREDITO", "DEBITO"]
# Why a balance moved: a teller operation, the opening balance, a saga command, or (added later) a captured hold.
Causa = Literal["APERTURA", "DEPOSITO", "RETIRO", "SAGA", "REVERSION", "CAPTURA"]
MotivoRechazo = Literal[
    "CUENTA_NO_EXISTE",
    "CUENTA_BLOQUEADA",
    "CUENTA_CERRADA",
    "MONEDA_DISTINTA",
    "SALDO_INSUFICIENTE",
    # Added later (readers of older events never see them): a credit beyond the balance ceiling, and a command
    # that can never apply as sent (e.g. reverting a debit that does not exist or was already reverted).
    "SALDO_EXCEDIDO",
    "COMANDO_INVALIDO",
    # Added later: a debit beyond the account's daily withdrawal or transfer-out limit (America/Lima ledger day).
    "LIMITE_DIARIO_EXCEDIDO",
]


# The bank's own accounts (double entry), per currency: the other side of every customer movement.
CuentaInterna = Literal[
    "CAJA",  # cash in and out at the bank: teller deposits/withdrawals, opening balances, DEPOSITO and RETIRO
    "TRANSITO",  # a transfer's money between its debit and its credit (or its reversal)
    "SERVICIOS_POR_PAGAR",  # service payments owed to the billers
    "LIQUIDACION_TARJETAS",  # captured holds owed to the card network
    "POSICION_FX",  # the currencies the bank bought and sold in FX transfers
    "INGRESOS_FX",  # the spread of FX transfers
    "INGRESOS_COMISIONES",  # fees (none charged yet)
    "GASTOS_INTERESES",  # interest paid (none paid yet)
]


class Asiento(BaseModel):
    """One leg of a movement on a bank's own account: signed so that, per currency, the customer's movement (CREDITO
    +, DEBITO −) plus its legs sum to zero."""

    cuenta_interna: CuentaInterna
    moneda: Moneda
    monto: Money = Field(description="signed: + the bank's account grows, − it shrinks")


class _CuentaEvent(DomainEvent):
    topic: ClassVar[str] = topics.CUENTAS
    key_field: ClassVar[str] = "cuenta_id"

    cuenta_id: int


class CuentaAbierta(_CuentaEvent):
    type: ClassVar[str] = "bank.cuentas.CuentaAbierta.v1"

    cliente_id: int
    tipo_cuenta_id: int
    tipo_cuenta_nombre: str
    numero_cuenta: str
    saldo: Money
    moneda: Moneda
    estado: EstadoCuenta
    fecha_apertura: datetime


class SaldoActualizado(_CuentaEvent):
    """One ledger movement: `saldo` is the balance right after it, `movimiento_id` its ledger row."""

    type: ClassVar[str] = "bank.cuentas.SaldoActualizado.v1"

    cliente_id: int
    numero_cuenta: str
    movimiento_id: int
    operacion: Operacion
    causa: Causa
    monto: PositiveMoney
    saldo: Money
    moneda: Moneda
    fecha: datetime
    transaccion_id: str | None = None
    comando_id: str | None = None
    # Added later (optional, empty on older events): the movement's other side on the bank's own accounts.
    asientos: list[Asiento] = Field(default_factory=list)


class EstadoCuentaCambiado(_CuentaEvent):
    type: ClassVar[str] = "bank.cuentas.EstadoCuentaCambiado.v1"

    cliente_id: int
    estado_anterior: EstadoCuenta
    estado: EstadoCuenta
    fecha: datetime


class LimitesCuentaCambiados(_CuentaEvent):
    """PUT /cuentas/{id}/limites changed the account's own daily limits (its overrides of its tipo's), in the
    account's currency: before and after, null for no override (the tipo's limit applies). Only a change is
    published; the limits in force also depend on the tipo's."""

    type: ClassVar[str] = "bank.cuentas.LimitesCuentaCambiados.v1"

    cliente_id: int
    moneda: Moneda
    retiro_diario: Money | None
    transferencia_diaria: Money | None
    retiro_diario_anterior: Money | None
    transferencia_diaria_anterior: Money | None
    fecha: datetime


class CuentaEliminada(_CuentaEvent):
    type: ClassVar[str] = "bank.cuentas.CuentaEliminada.v1"

    cliente_id: int
    fecha: datetime


class MovimientoRechazado(_CuentaEvent):
    """A saga command cuentas refused; no money moved."""

    type: ClassVar[str] = "bank.cuentas.MovimientoRechazado.v1"

    transaccion_id: str
    comando_id: str
    operacion: Operacion
    monto: PositiveMoney
    moneda: Moneda
    motivo: MotivoRechazo
    detalle: str
    fecha: datetime
    cliente_id: int | None = None


class _RetencionEvent(_CuentaEvent):
    """A hold (retención) on an account: keyed by the account, so its events stay in order with the account's
    movements. `saldo_disponible` is the account's available balance (saldo − active holds) right after it."""

    cliente_id: int
    retencion_id: int
    moneda: Moneda
    saldo_disponible: Money
    fecha: datetime


class RetencionCreada(_RetencionEvent):
    """An amount reserved on the account until `vence` (a card authorization); no money moved yet."""

    type: ClassVar[str] = "bank.cuentas.RetencionCreada.v1"

    monto: PositiveMoney
    vence: datetime
    referencia: str | None = None


class RetencionCapturada(_RetencionEvent):
    """A hold captured: `monto` left the account as the DEBITO ledger row `movimiento_id` (its SaldoActualizado
    follows), and `liberado` of the hold (the rest) is available again."""

    type: ClassVar[str] = "bank.cuentas.RetencionCapturada.v1"

    monto: PositiveMoney
    liberado: Money
    movimiento_id: int


class RetencionLiberada(_RetencionEvent):
    """A hold voided before it was captured: all of `monto` is available again."""

    type: ClassVar[str] = "bank.cuentas.RetencionLiberada.v1"

    monto: PositiveMoney


class RetencionExpirada(_RetencionEvent):
    """A hold that reached its `vence` uncaptured: all of `monto` is available again."""

    type: ClassVar[str] = "bank.cuentas.RetencionExpirada.v1"

    monto: PositiveMoney
    vence: datetime
