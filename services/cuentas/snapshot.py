"""What cuentas lets an auditor read (`bank audit`): every account's saldo and its whole ledger, in one read-only
consistent snapshot. The audit reconciles them against the events; it never reads cuentas' tables itself."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.cuentas import db
from services.cuentas import repository as repo
from services.cuentas.domain import Movimiento


@dataclass(frozen=True)
class CuentaConLedger:
    cuenta_id: int
    saldo: Decimal
    eliminada: bool
    fecha_apertura: datetime
    movimientos: tuple[Movimiento, ...] = ()  # in the order they happened (movimiento_id)


@dataclass(frozen=True)
class Instantanea:
    cuentas: dict[int, CuentaConLedger]
    ahora: datetime  # the database's UTC clock at the snapshot: what happened before it is in it


async def leer(mysql_url: str, only: Iterable[int] | None = None) -> Instantanea:
    """The accounts (`only` these ids, or all) with their ledgers, as of one instant."""
    ids = sorted(set(only)) if only is not None else None
    async with db.snapshot(db.Database.from_url(mysql_url)) as cur:
        ahora = await repo.ahora(cur)
        if ids == []:
            return Instantanea({}, ahora)
        saldos = await repo.saldos(cur, ids)
        por_cuenta: dict[int, list[Movimiento]] = {}
        for m in await repo.ledger(cur, ids):
            por_cuenta.setdefault(m.cuenta_id, []).append(m)
    cuentas = {
        cuenta_id: CuentaConLedger(cuenta_id, saldo, eliminada, apertura, tuple(por_cuenta.get(cuenta_id, ())))
        for cuenta_id, saldo, eliminada, apertura in saldos
    }
    return Instantanea(cuentas, ahora)
