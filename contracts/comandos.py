"""Saga commands to cuentas (topic bank.cuentas.comandos.v1), keyed by cuenta_id."""

from typing import ClassVar

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


class AcreditarCuenta(_CuentaCommand):
    type: ClassVar[str] = "bank.cuentas.AcreditarCuenta.v1"


class RevertirDebito(_CuentaCommand):
    """Gives back a debit whose transfer could not be completed."""

    type: ClassVar[str] = "bank.cuentas.RevertirDebito.v1"

    comando_original_id: str
