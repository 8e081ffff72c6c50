"""A bank test in the spirit of Jepsen's: concurrent random money movements, holds and reversals while the saga's
processes are killed (-9) and restarted, then the books must balance exactly (the run and the checks: jepsen.py).

Checked afterwards: no transaction left PENDIENTE; no negative balance; every saldo equals the sum of its
ledger; the bank's total per currency equals the opening balances plus every completed transaction's effect
(reversals included) minus the captured holds; per transaction, the ledger shows exactly its effect (COMPLETADA)
or none at all (FALLIDA) — so no command was applied twice and no compensation was lost —, and no ledger line
belongs to a transaction no client was answered; every hold final as its client was told, its CAPTURA line one to
one, saldo_disponible = saldo - Σ active holds (long holds stay active); every reversal linked both ways, at most one per transfer, the
money of each reverted transfer back at its origin; FX transfers (PEN <-> USD at a quote) credit exactly their
montoDestino; per currency, customers' and the bank's own accounts sum to 0 (double entry).
"""

import pytest

from tests.integration.transacciones import jepsen
from tests.integration.transacciones.conftest import Banco, CuentaFactory

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

# (seconds into the run, supervisor program): each is SIGKILLed; supervisor starts it again. A name stands for
# every instance of that program (transacciones or transacciones-1, -2, ...), killed in turn.
CHAOS = [
    (6.0, "transacciones:transacciones-1"),
    (14.0, "cuentas:cuentas-1"),
    (20.0, "transacciones:transacciones-2"),
    (27.0, "cuentas:cuentas-2"),
    (32.0, "cuentas:cuentas-1"),
]


async def test_el_banco_cuadra_con_procesos_matados(banco: Banco, cuenta: CuentaFactory) -> None:
    run = await jepsen.run_bank(banco, cuenta, nemesis=jepsen.Nemesis(CHAOS), load_seconds=40.0, settle_seconds=120.0)
    print(jepsen.report(run, "bank test: transacciones and cuentas killed -9"))
    assert len(run.nemesis.kills) >= 3, run.nemesis.kills
    await jepsen.check_books(banco, run)
    holds = await jepsen.check_retenciones(banco, run)
    reversiones = jepsen.check_reversiones(run)
    print(jepsen.report_extras(run, holds, reversiones))
    assert {"CAPTURADA", "LIBERADA", "EXPIRADA"} <= set(holds), holds
    assert reversiones["reversal COMPLETADA"] > 0, reversiones
    fx = [t for t in run.finales.values() if t.get("cotizacionId") and t["estado"] == "COMPLETADA"]
    assert fx, "no FX transfer completed in the run"
    print(f"FX transfers completed: {len(fx)}")
    jepsen.check_audit(run)
    run.checks.append("bank audit clean")
    print(run.checks[-1])
