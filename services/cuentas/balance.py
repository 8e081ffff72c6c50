"""The one way a saldo changes, for the teller and the saga alike: lock the accounts, decide every request in order
(decisions.decidir, pure), write the net change and one ledger row per approved movement, and build its event."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from contracts.comandos import RevertirDebito
from contracts.cuentas import SaldoActualizado
from services.cuentas import decisions, events
from services.cuentas import repository as repo
from services.cuentas.db import Cursor


@dataclass(frozen=True)
class Movido:
    """An approved movement once written: its ledger row's SaldoActualizado."""

    aprobado: decisions.Aprobado
    evento: SaldoActualizado


Resultado = Movido | decisions.Denegado


async def mover(cur: Cursor, pedidos: Sequence[decisions.Pedido], fecha: datetime) -> list[Resultado]:
    """Decide and write `pedidos` on the caller's open transaction; one result per request, in order. The caller
    puts the events in the outbox (with its correlation) and answers the denials (an error, or a saga reply)."""
    # Row locks in cuenta_id order, so two batches sharing accounts cannot deadlock.
    cuentas = await repo.bloquear_cuentas(cur, (p.cuenta_id for p in pedidos))
    originales = [p.comando_original_id for p in pedidos if isinstance(p, RevertirDebito)]
    debitos = await repo.debitos_saga(cur, originales)

    decididos = decisions.decidir(pedidos, cuentas, debitos)

    aprobados = [d for d in decididos if isinstance(d, decisions.Aprobado)]
    await repo.aplicar_deltas(cur, decisions.deltas(aprobados))
    asientos = [a.asiento(fecha) for a in aprobados]
    escritos = iter(zip(asientos, await repo.insertar_movimientos(cur, asientos), strict=True))
    resultados: list[Resultado] = []
    for d in decididos:
        if isinstance(d, decisions.Aprobado):
            asiento, movimiento_id = next(escritos)
            resultados.append(Movido(d, events.saldo_actualizado(d.cuenta, asiento, movimiento_id)))
        else:
            resultados.append(d)
    return resultados
