"""Saga commands to cuentas (topic bank.cuentas.comandos.v1), keyed by cuenta_id."""

from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, Field

from contracts import topics
from contracts.base import Command
from contracts.money import Moneda, Money, PositiveMoney


class _CuentaCommand(Command):
    topic: ClassVar[str] = topics.CUENTAS_COMANDOS
    key_field: ClassVar[str] = "cuenta_id"

    comando_id: str
    transaccion_id: str
    cuenta_id: int
    monto: PositiveMoney
    moneda: Moneda


class DebitarCuenta(_CuentaCommand):
    type: ClassVar[str] = "bank.cuentas.DebitarCuenta.v1"

    # Added later (optional, so older commands still read): the kind of transaction the debit is for, which decides
    # the daily limit it counts against. Plain text rather than the TipoTransaccion literal, so a kind cuentas does
    # not know yet is simply not limited instead of making the command unreadable (and its saga wait forever).
    tipo_transaccion: str | None = Field(
        None,
        description="RETIRO / PAGO_SERVICIO count against the daily withdrawal limit, TRANSFERENCIA against the daily "
        "transfer-out limit; absent or any other kind: no daily limit",
    )


class Cambio(BaseModel):
    """The conversion of an FX transfer, carried by its credit: the debit took `monto_origen` in `moneda_origen`; the
    credit gives its `monto` in the destination account's currency at the quote's `tasa`; `ingreso` (in moneda_origen,
    part of monto_origen) is the bank's spread, booked as income. The reversal of an FX transfer gives both amounts
    back at the original's rate and hands the spread back too: `ingreso_revertido`, in the credit's currency (the
    original's origin currency), taken out of the income it was booked to."""

    cotizacion_id: str
    moneda_origen: Moneda
    monto_origen: PositiveMoney
    tasa: Decimal = Field(gt=0, max_digits=18, decimal_places=8, description="destination units per origin unit")
    ingreso: Money = Field(ge=0)
    # Added later (optional, so older commands still read): only the reversal of an FX transfer has it.
    ingreso_revertido: Money = Field(
        Decimal("0.00"), ge=0, description="the reversal of an FX transfer: the original's spread given back"
    )


class AcreditarCuenta(_CuentaCommand):
    type: ClassVar[str] = "bank.cuentas.AcreditarCuenta.v1"

    # Added later (optional, so older commands still read): present only on the credit of an FX transfer.
    cambio: Cambio | None = Field(None, description="FX transfer: what the debit took and at which quote")
    # Added later (optional, so older commands still read): the kind of transaction the credit is for, which decides
    # the bank's own account on the other side of it (double entry). Plain text rather than the TipoTransaccion
    # literal, so a kind cuentas does not know yet still reads (and books as money in transit).
    tipo_transaccion: str | None = Field(
        None,
        description="DEPOSITO: cash came in at the bank (CAJA); absent or any other kind: the credit side of a "
        "transfer (TRANSITO)",
    )


class RevertirDebito(_CuentaCommand):
    """Gives back a debit whose transfer could not be completed."""

    type: ClassVar[str] = "bank.cuentas.RevertirDebito.v1"

    comando_original_id: str
