"""Sample domain events for the lake's tests, unit and integration alike: five event types (five tables) in
rotation, so a handful of offsets touches every kind of table."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from contracts.base import DomainEvent
from contracts.clientes import ClienteCreado, Documento
from contracts.cuentas import CuentaAbierta, SaldoActualizado
from contracts.transacciones import TransaccionRegistrada, TransaccionSolicitada


def sample_event(n: int, when: datetime) -> DomainEvent:
    """Five event types (five tables) in rotation."""
    kind = n % 5
    if kind == 0:
        doc = Documento(documento_id=n, tipo_documento="DNI", numero_documento=f"{n:08d}")
        return ClienteCreado(
            cliente_id=n,
            nombre="Ana",
            apellido="Paz",
            email=f"a{n}@x.pe",
            estado="activo",
            fecha_registro=when,
            documentos=(doc,),
        )
    if kind == 1:
        return CuentaAbierta(
            cuenta_id=n,
            cliente_id=n,
            tipo_cuenta_id=1,
            tipo_cuenta_nombre="Cuenta Sueldo",
            numero_cuenta=f"{n:013d}",
            saldo=Decimal("100.00"),
            moneda="PEN",
            estado="activa",
            fecha_apertura=when,
        )
    if kind == 2:
        return SaldoActualizado(
            cuenta_id=n,
            cliente_id=n,
            numero_cuenta=f"{n:013d}",
            movimiento_id=n,
            operacion="CREDITO",
            causa="DEPOSITO",
            monto=Decimal("1.00"),
            saldo=Decimal("101.00"),
            moneda="PEN",
            fecha=when,
        )
    common: dict[str, Any] = {
        "transaccion_id": f"TRX{n}",
        "id": f"id{n}",
        "tipo": "DEPOSITO",
        "monto": Decimal("9.99"),
        "moneda": "USD",
        "cuenta_destino_id": n,
        "fecha": when,
    }
    return TransaccionSolicitada(**common) if kind == 3 else TransaccionRegistrada(**common)
