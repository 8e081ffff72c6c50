"""A CuentaAbierta to fold, for the tests of its consumers, unit and integration alike."""

from datetime import UTC, datetime
from decimal import Decimal

from contracts.cuentas import CuentaAbierta, EstadoCuenta
from contracts.money import Moneda

ENERO = datetime(2026, 1, 1, tzinfo=UTC)


def abierta(
    cuenta_id: int,
    cliente_id: int,
    moneda: Moneda = "PEN",
    *,
    saldo: str = "0.00",
    estado: EstadoCuenta = "activa",
    fecha: datetime = ENERO,
) -> CuentaAbierta:
    """An account as opened (by default on 2026-01-01, active, with nothing in it)."""
    return CuentaAbierta(
        cuenta_id=cuenta_id,
        cliente_id=cliente_id,
        tipo_cuenta_id=1,
        tipo_cuenta_nombre="Ahorros",
        numero_cuenta=f"100{cuenta_id}",
        saldo=Decimal(saldo),
        moneda=moneda,
        estado=estado,
        fecha_apertura=fecha,
    )
