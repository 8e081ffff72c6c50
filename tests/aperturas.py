"""A CuentaAbierta to fold, for the tests of its consumers, unit and integration alike."""

from datetime import UTC, datetime
from decimal import Decimal

from contracts.cuentas import CuentaAbierta
from contracts.money import Moneda


def abierta(cuenta_id: int, cliente_id: int, moneda: Moneda = "PEN") -> CuentaAbierta:
    """An account opened on 2026-01-01 with nothing in it."""
    return CuentaAbierta(
        cuenta_id=cuenta_id,
        cliente_id=cliente_id,
        tipo_cuenta_id=1,
        tipo_cuenta_nombre="Ahorros",
        numero_cuenta=f"100{cuenta_id}",
        saldo=Decimal("0.00"),
        moneda=moneda,
        estado="activa",
        fecha_apertura=datetime(2026, 1, 1, tzinfo=UTC),
    )
