"""Builders of domain events for perfil tests (valid contract models with sensible defaults)."""

import itertools
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from contracts.clientes import ClienteActualizado, ClienteCreado, ClienteEliminado, Documento
from contracts.cuentas import CuentaAbierta, CuentaEliminada, EstadoCuentaCambiado, SaldoActualizado
from contracts.transacciones import TransaccionFallida, TransaccionRegistrada

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def cliente_creado(cliente_id: int, **kw: Any) -> ClienteCreado:
    data: dict[str, Any] = {
        "cliente_id": cliente_id,
        "nombre": "Ana",
        "apellido": "Quispe",
        "email": f"ana{cliente_id}@example.com",
        "telefono": "999888777",
        "estado": "activo",
        "fecha_registro": at(0),
        "documentos": (
            Documento(documento_id=cliente_id * 10, tipo_documento="DNI", numero_documento=f"{cliente_id:08d}"),
        ),
    }
    return ClienteCreado(**(data | kw))


def cliente_actualizado(cliente_id: int, **kw: Any) -> ClienteActualizado:
    data: dict[str, Any] = {
        "cliente_id": cliente_id,
        "nombre": "Ana María",
        "apellido": "Quispe",
        "email": f"ana{cliente_id}@example.com",
        "telefono": None,
        "estado": "activo",
    }
    return ClienteActualizado(**(data | kw))


def cliente_eliminado(cliente_id: int) -> ClienteEliminado:
    return ClienteEliminado(cliente_id=cliente_id)


def cuenta_abierta(
    cuenta_id: int, cliente_id: int, saldo: str = "0.00", moneda: str = "PEN", **kw: Any
) -> CuentaAbierta:
    data: dict[str, Any] = {
        "cuenta_id": cuenta_id,
        "cliente_id": cliente_id,
        "tipo_cuenta_id": 2,
        "tipo_cuenta_nombre": "Cuenta Free",
        "numero_cuenta": f"{cuenta_id:013d}",
        "saldo": Decimal(saldo),
        "moneda": moneda,
        "estado": "activa",
        "fecha_apertura": at(1),
    }
    return CuentaAbierta(**(data | kw))


def saldo(
    cuenta_id: int,
    cliente_id: int,
    movimiento_id: int,
    saldo: str,
    monto: str = "10.00",
    moneda: str = "PEN",
    **kw: Any,
) -> SaldoActualizado:
    data: dict[str, Any] = {
        "cuenta_id": cuenta_id,
        "cliente_id": cliente_id,
        "numero_cuenta": f"{cuenta_id:013d}",
        "movimiento_id": movimiento_id,
        "operacion": "CREDITO",
        "causa": "DEPOSITO",
        "monto": Decimal(monto),
        "saldo": Decimal(saldo),
        "moneda": moneda,
        "fecha": at(2 + movimiento_id),
    }
    return SaldoActualizado(**(data | kw))


def estado(cuenta_id: int, cliente_id: int, anterior: str, nuevo: str, minute: float) -> EstadoCuentaCambiado:
    return EstadoCuentaCambiado(
        cuenta_id=cuenta_id, cliente_id=cliente_id, estado_anterior=anterior, estado=nuevo, fecha=at(minute)
    )


def cuenta_eliminada(cuenta_id: int, cliente_id: int) -> CuentaEliminada:
    return CuentaEliminada(cuenta_id=cuenta_id, cliente_id=cliente_id, fecha=at(100))


def registrada(
    *,
    origen: tuple[int, int] | None = None,
    destino: tuple[int, int] | None = None,
    monto: str = "10.00",
    minute: float = 10,
    tipo: str | None = None,
    trx: str | None = None,
    **kw: Any,
) -> TransaccionRegistrada:
    """origen/destino are (cliente_id, cuenta_id)."""
    n = next(_ids)
    return TransaccionRegistrada(**_trx_fields(n, origen, destino, monto, minute, tipo, trx), **kw)


def fallida(
    *, origen: tuple[int, int] | None = None, destino: tuple[int, int] | None = None, minute: float = 10
) -> TransaccionFallida:
    n = next(_ids)
    return TransaccionFallida(
        **_trx_fields(n, origen, destino, "5.00", minute, None, None), motivo="SALDO_INSUFICIENTE"
    )


def _trx_fields(n, origen, destino, monto, minute, tipo, trx) -> dict[str, Any]:
    if tipo is None:
        tipo = "TRANSFERENCIA" if origen and destino else ("RETIRO" if origen else "DEPOSITO")
    return {
        "transaccion_id": trx or f"TRX{n:06d}",
        "id": f"id-{n}",
        "tipo": tipo,
        "monto": Decimal(monto),
        "moneda": "PEN",
        "cuenta_origen_id": origen[1] if origen else None,
        "cuenta_destino_id": destino[1] if destino else None,
        "fecha": at(minute),
        "cliente_origen_id": origen[0] if origen else None,
        "cliente_destino_id": destino[0] if destino else None,
        "numero_cuenta_origen": f"{origen[1]:013d}" if origen else None,
        "numero_cuenta_destino": f"{destino[1]:013d}" if destino else None,
    }


def workload(clientes: int, *, seed: int = 1, movimientos: int = 4, first_id: int = 1) -> list[Any]:
    """A plausible event history for `clientes` clientes: each with 1-2 accounts (some in USD), deposits and
    withdrawals that keep balances >= 0, transfers between clientes, a few updates and state changes.
    Per-aggregate order is the list order; ~10 events per cliente with the defaults."""

    rnd = random.Random(seed)
    out: list[Any] = []
    mov = itertools.count(first_id * 100)
    cuentas: list[tuple[int, int, str]] = []  # (cliente_id, cuenta_id, moneda)
    saldos: dict[int, Decimal] = {}
    for c in range(first_id, first_id + clientes):
        out.append(cliente_creado(c, nombre=rnd.choice(["Ana", "Luis", "Rosa", "Jorge"]), apellido=f"Apellido{c}"))
        for k in range(rnd.choice([1, 1, 2])):
            cuenta_id = c * 10 + k
            moneda = rnd.choice(["PEN", "PEN", "USD"])
            inicial = Decimal(rnd.randint(0, 500))
            out.append(cuenta_abierta(cuenta_id, c, saldo=f"{inicial:.2f}", moneda=moneda))
            if inicial > 0:
                out.append(
                    saldo(
                        cuenta_id,
                        c,
                        next(mov),
                        f"{inicial:.2f}",
                        monto=f"{inicial:.2f}",
                        moneda=moneda,
                        causa="APERTURA",
                    )
                )
            saldos[cuenta_id] = inicial
            cuentas.append((c, cuenta_id, moneda))
        if rnd.random() < 0.3:
            out.append(cliente_actualizado(c, email=f"nuevo{c}@example.com"))
    for _ in range(movimientos * clientes):
        c, cuenta_id, moneda = rnd.choice(cuentas)
        monto = Decimal(rnd.randint(1, 200))
        if rnd.random() < 0.6 or saldos[cuenta_id] < monto:
            saldos[cuenta_id] += monto
            out.append(saldo(cuenta_id, c, next(mov), f"{saldos[cuenta_id]:.2f}", monto=f"{monto:.2f}", moneda=moneda))
            out.append(registrada(destino=(c, cuenta_id), monto=f"{monto:.2f}", minute=rnd.randint(0, 10_000)))
        else:
            saldos[cuenta_id] -= monto
            out.append(
                saldo(
                    cuenta_id,
                    c,
                    next(mov),
                    f"{saldos[cuenta_id]:.2f}",
                    monto=f"{monto:.2f}",
                    moneda=moneda,
                    operacion="DEBITO",
                )
            )
            other = rnd.choice(cuentas)
            out.append(
                registrada(
                    origen=(c, cuenta_id), destino=other[:2], monto=f"{monto:.2f}", minute=rnd.randint(0, 10_000)
                )
            )
    for c, cuenta_id, _ in rnd.sample(cuentas, k=max(1, len(cuentas) // 5)):
        # A transfer refused at the debit: transacciones never learns who owns the destination.
        other = rnd.choice(cuentas)
        refused = fallida(origen=(c, cuenta_id), destino=other[:2], minute=rnd.randint(0, 10_000))
        out.append(refused.model_copy(update={"cliente_destino_id": None, "numero_cuenta_destino": None}))
    for c, cuenta_id, _ in rnd.sample(cuentas, k=max(1, len(cuentas) // 10)):
        out.append(estado(cuenta_id, c, "activa", "bloqueada", 20_000))
    return out


def retencion(
    kind: str, cuenta_id: int, cliente_id: int, retencion_id: int, monto: str = "30.00", minute: float = 20, **kw: Any
) -> Any:
    """A hold event: kind is creada, capturada, liberada or expirada."""
    from contracts import cuentas as c

    data: dict[str, Any] = {
        "cuenta_id": cuenta_id,
        "cliente_id": cliente_id,
        "retencion_id": retencion_id,
        "moneda": "PEN",
        "saldo_disponible": Decimal("0.00"),
        "fecha": at(minute),
        "monto": Decimal(monto),
    }
    if kind == "creada":
        return c.RetencionCreada(**(data | {"vence": at(minute + 60), "referencia": "POS-1"} | kw))
    if kind == "capturada":
        return c.RetencionCapturada(**(data | {"liberado": Decimal("0.00"), "movimiento_id": 999} | kw))
    if kind == "liberada":
        return c.RetencionLiberada(**(data | kw))
    return c.RetencionExpirada(**(data | {"vence": at(minute)} | kw))
