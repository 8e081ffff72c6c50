"""Double entry, pure: the legs on the bank's own accounts that balance one customer movement.

Every movement of a customer's saldo (CREDITO +monto, DEBITO −monto) gets, in the same MySQL transaction, one or
more legs (asientos) on internal accounts, signed so that per currency the movement plus its legs sum to zero. An
internal account's balance is the Σ of its legs (no balance row: one row updated by every movement would serialize
the bank), so per currency Σ customers' saldo + Σ internal accounts stays 0 forever.

Which account takes the other side:
  APERTURA, DEPOSITO, RETIRO (teller)        CAJA
  CAPTURA (a captured hold)                  LIQUIDACION_TARJETAS
  REVERSION (RevertirDebito)                 TRANSITO
  SAGA DEBITO   RETIRO, REVERSION (of a DEPOSITO)  CAJA
                PAGO_SERVICIO                SERVICIOS_POR_PAGAR
                TRANSFERENCIA, none, other   TRANSITO
  SAGA CREDITO  DEPOSITO                     CAJA
                with `cambio` (FX)           TRANSITO, POSICION_FX, INGRESOS_FX (below)
                TRANSFERENCIA, none, other   TRANSITO
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, get_args

from contracts.comandos import Cambio
from contracts.cuentas import Asiento, Causa, CuentaInterna, Operacion
from contracts.money import MONEDAS, Moneda

CUENTAS_INTERNAS: Final[tuple[CuentaInterna, ...]] = get_args(CuentaInterna)
CERO: Final = Decimal("0.00")

# The saga's debits and credits by their transaction's kind (DebitarCuenta/AcreditarCuenta.tipo_transaccion); a kind
# not listed (none: a command from before the field, or a reversal's) is a transfer's, whose money waits in TRANSITO.
# A REVERSION debit is the one-step reversal of a DEPOSITO (the cash goes back out; no credit follows).
_DEBITO_SAGA: Final[dict[str, CuentaInterna]] = {
    "RETIRO": "CAJA",
    "PAGO_SERVICIO": "SERVICIOS_POR_PAGAR",
    "REVERSION": "CAJA",
}
_CREDITO_SAGA: Final[dict[str, CuentaInterna]] = {"DEPOSITO": "CAJA"}
_POR_CAUSA: Final[dict[str, CuentaInterna]] = {
    "APERTURA": "CAJA",
    "DEPOSITO": "CAJA",
    "RETIRO": "CAJA",
    "CAPTURA": "LIQUIDACION_TARJETAS",
    "REVERSION": "TRANSITO",
}


def firmado(operacion: Operacion, monto: Decimal) -> Decimal:
    """The customer's side of a movement: what it adds to the saldo."""
    return monto if operacion == "CREDITO" else -monto


def contraparte(causa: Causa, operacion: Operacion, tipo_transaccion: str | None = None) -> CuentaInterna:
    """The internal account on the other side of a movement without currency exchange."""
    if causa != "SAGA":
        return _POR_CAUSA[causa]
    tabla = _DEBITO_SAGA if operacion == "DEBITO" else _CREDITO_SAGA
    return tabla.get(tipo_transaccion or "", "TRANSITO")


def asientos(
    *,
    causa: Causa,
    operacion: Operacion,
    moneda: Moneda,
    monto: Decimal,
    tipo_transaccion: str | None = None,
    cambio: Cambio | None = None,
) -> list[Asiento]:
    """The legs of one movement of `monto` in the account's `moneda`. A saga credit carrying `cambio` (an FX transfer)
    closes the transfer in the origin currency — TRANSITO gives back what the debit took, the bank keeps `ingreso` as
    income and the rest as its FX position — and pays the customer out of its position in the destination currency.
    The reversal of an FX transfer also gives the original's spread back (`ingreso_revertido`, in `moneda`): it comes
    out of the income, so the position in that currency only pays the rest."""
    if cambio is not None and causa == "SAGA" and operacion == "CREDITO":
        revertido = cambio.ingreso_revertido
        legs = [
            Asiento(cuenta_interna="TRANSITO", moneda=cambio.moneda_origen, monto=-cambio.monto_origen),
            Asiento(
                cuenta_interna="POSICION_FX", moneda=cambio.moneda_origen, monto=cambio.monto_origen - cambio.ingreso
            ),
            Asiento(cuenta_interna="INGRESOS_FX", moneda=cambio.moneda_origen, monto=cambio.ingreso),
            Asiento(cuenta_interna="POSICION_FX", moneda=moneda, monto=-monto + revertido),
            Asiento(cuenta_interna="INGRESOS_FX", moneda=moneda, monto=-revertido),
        ]
        return [a for a in legs if a.monto != 0]  # no spread: no income leg
    cuenta = contraparte(causa, operacion, tipo_transaccion)
    return [Asiento(cuenta_interna=cuenta, moneda=moneda, monto=-firmado(operacion, monto))]


def descuadre(operacion: Operacion, moneda: Moneda, monto: Decimal, legs: Iterable[Asiento]) -> dict[str, Decimal]:
    """Per currency, what the movement plus its legs leave unbalanced (empty: it balances, as every one must)."""
    suma: dict[str, Decimal] = {moneda: firmado(operacion, monto)}
    for a in legs:
        suma[a.moneda] = suma.get(a.moneda, Decimal(0)) + a.monto
    return {m: s for m, s in suma.items() if s != 0}


@dataclass(frozen=True)
class BalanceMoneda:
    """One currency of the bank: every internal account's balance (Σ of its legs), the customers' Σ saldo and the
    informational Σ of active holds (reserved inside customers' saldo, not money booked anywhere)."""

    moneda: Moneda
    cuentas: dict[CuentaInterna, Decimal]
    total_clientes: Decimal
    retenciones: Decimal = CERO

    @property
    def total_internas(self) -> Decimal:
        return sum(self.cuentas.values(), CERO)

    @property
    def total(self) -> Decimal:
        """Σ customers + Σ internal accounts: 0 whenever double entry holds."""
        return self.total_clientes + self.total_internas


def balances(
    internas: Mapping[tuple[str, str], Decimal],
    clientes: Mapping[str, Decimal],
    retenido: Mapping[str, Decimal] | None = None,
) -> list[BalanceMoneda]:
    """Every currency, every internal account (0 when it has no legs). `internas`: Σ legs per (moneda, cuenta);
    `clientes` / `retenido`: Σ saldo / Σ active holds of the customers' accounts per moneda."""
    retenido = retenido or {}
    return [
        BalanceMoneda(
            moneda=m,
            cuentas={c: internas.get((m, c), CERO) for c in CUENTAS_INTERNAS},
            total_clientes=clientes.get(m, CERO),
            retenciones=retenido.get(m, CERO),
        )
        for m in MONEDAS
    ]
