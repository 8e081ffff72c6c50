"""`bank audit`'s double-entry checks, pure: over the bank's own accounts as cuentas exports them (snapshot.py).

  DESCUADRE_MONEDA         per currency, Σ customers' saldo + Σ internal accounts ≠ 0 (money made or lost)
  MOVIMIENTOS_SIN_ASIENTOS a movement without legs on the internal accounts that balance it
  TRANSITO_NEGATIVO        a transaction took more out of TRANSITO than its debit put in
  TRANSITO_ESTANCADO       a transfer debited and, after `stuck_after`, neither credited nor given back: its money
                           waits in TRANSITO (younger ones are transfers in flight, only counted)
So when no saga is in flight, TRANSITO is 0 in every currency. Like stuck sagas and dead letters, money in TRANSITO
since before `triaged_until` (already looked at) is only counted, not reported.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from services.cuentas.snapshot import PartidaDoble


@dataclass(frozen=True)
class Hallazgo:
    tipo: str
    detalle: str

    def __str__(self) -> str:
        return f"{self.tipo}: {self.detalle}"


@dataclass
class Revision:
    hallazgos: list[Hallazgo] = field(default_factory=list)
    resumen: list[str] = field(default_factory=list)  # per currency: what each internal account holds


def revisar(
    pd: PartidaDoble, *, ahora: datetime, stuck_after: timedelta, triaged_until: datetime | None = None
) -> Revision:
    out = Revision()
    for b in pd.balances:
        cuentas = ", ".join(f"{c} {v}" for c, v in b.cuentas.items() if v != 0) or "all 0"
        out.resumen.append(
            f"  {b.moneda}: customers {b.total_clientes} + internal {b.total_internas} = {b.total} ({cuentas}; "
            f"holds {b.retenciones})"
        )
        if b.total != 0:
            out.hallazgos.append(
                Hallazgo(
                    "DESCUADRE_MONEDA",
                    f"{b.moneda}: customers {b.total_clientes} + internal accounts {b.total_internas} = {b.total}, "
                    "not 0",
                )
            )
    if pd.total_descuadrados:
        out.hallazgos.append(
            Hallazgo(
                "MOVIMIENTOS_SIN_ASIENTOS",
                f"{pd.total_descuadrados} movimientos without balancing legs, e.g. {pd.descuadrados[:10]}",
            )
        )
    en_vuelo: dict[str, Decimal] = {}
    triados = 0
    for t in pd.transito:
        if triaged_until is not None and t.desde < triaged_until:
            triados += 1
        elif t.monto < 0:
            out.hallazgos.append(
                Hallazgo("TRANSITO_NEGATIVO", f"transaccion {t.transaccion_id}: {t.monto} {t.moneda} in TRANSITO")
            )
        elif t.desde <= ahora - stuck_after:
            out.hallazgos.append(
                Hallazgo(
                    "TRANSITO_ESTANCADO",
                    f"transaccion {t.transaccion_id}: {t.monto} {t.moneda} in TRANSITO since {t.desde.isoformat()}",
                )
            )
        else:
            en_vuelo[t.moneda] = en_vuelo.get(t.moneda, Decimal(0)) + t.monto
    if triados:
        out.resumen.append(f"  transactions in TRANSITO since before --triaged-until (not reported): {triados}")
    if en_vuelo:
        out.resumen.append("  transfers in flight (TRANSITO): " + ", ".join(f"{v} {m}" for m, v in en_vuelo.items()))
    return out
