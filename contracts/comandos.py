"""Saga commands to cuentas (topic bank.cuentas.comandos.v1), keyed by cuenta_id."""

from typing import ClassVar

from pydantic import Field

from contracts import topics
from contracts.base import Command
from contracts.money import Moneda, PositiveMoney


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


class AcreditarCuenta(_CuentaCommand):
    type: ClassVar[str] = "bank.cuentas.AcreditarCuenta.v1"


class RevertirDebito(_CuentaCommand):
    """Gives back a debit whose transfer could not be completed."""

    type: ClassVar[str] = "bank.cuentas.RevertirDebito.v1"

    comando_original_id: str
