"""What cuentas lets an auditor read (`bank audit`): every account's saldo and its whole ledger, and the bank's own
accounts (double entry), in one read-only consistent snapshot. The audit reconciles them against the events; it never
reads cuentas' tables itself."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.cuentas import db
from services.cuentas import repository as repo
from services.cuentas.asientos import BalanceMoneda, balances
from services.cuentas.domain import Movimiento


@dataclass(frozen=True)
class CuentaConLedger:
    cuenta_id: int
    saldo: Decimal
    eliminada: bool
    fecha_apertura: datetime
    movimientos: tuple[Movimiento, ...] = ()  # in the order they happened (movimiento_id)


@dataclass(frozen=True)
class Transito:
    """Money of one transaction waiting in TRANSITO: debited, not yet credited nor given back."""

    transaccion_id: str | None
    moneda: str
    monto: Decimal  # > 0 for a transfer in flight; anything else is an error
    desde: datetime


@dataclass(frozen=True)
class PartidaDoble:
    """The bank's own accounts per currency, and what breaks double entry."""

    balances: list[BalanceMoneda]
    descuadrados: list[int]  # the first movimiento_ids without legs that balance them
    total_descuadrados: int
    transito: list[Transito]


@dataclass(frozen=True)
class Instantanea:
    cuentas: dict[int, CuentaConLedger]
    ahora: datetime  # the database's UTC clock at the snapshot: what happened before it is in it
    partida_doble: PartidaDoble | None = None  # bank-wide, whichever accounts were asked for


async def leer_partida_doble(cur: db.Cursor) -> PartidaDoble:
    """Double entry as of the cursor's snapshot."""
    clientes, retenido = await repo.totales_clientes(cur)
    internas = await repo.saldos_internos(cur)
    descuadrados, total = await repo.movimientos_descuadrados(cur)
    transito = [Transito(*row) for row in await repo.transito_abierto(cur)]
    return PartidaDoble(balances(internas, clientes, retenido), descuadrados, total, transito)


async def leer(mysql_url: str, only: Iterable[int] | None = None) -> Instantanea:
    """The accounts (`only` these ids, or all) with their ledgers, as of one instant."""
    ids = sorted(set(only)) if only is not None else None
    async with db.snapshot(db.Database.from_url(mysql_url)) as cur:
        ahora = await repo.ahora(cur)
        partida_doble = await leer_partida_doble(cur)
        if ids == []:
            return Instantanea({}, ahora, partida_doble)
        saldos = await repo.saldos(cur, ids)
        por_cuenta: dict[int, list[Movimiento]] = {}
        for m in await repo.ledger(cur, ids):
            por_cuenta.setdefault(m.cuenta_id, []).append(m)
    cuentas = {
        cuenta_id: CuentaConLedger(cuenta_id, saldo, eliminada, apertura, tuple(por_cuenta.get(cuenta_id, ())))
        for cuenta_id, saldo, eliminada, apertura in saldos
    }
    return Instantanea(cuentas, ahora, partida_doble)
