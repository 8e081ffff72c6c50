"""The one way a saldo changes, for the teller and the saga alike: lock the accounts, decide every request in order
(decisions.decidir, pure), write the net change and one ledger row per approved movement, and build its event."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from contracts.comandos import RevertirDebito
from contracts.cuentas import SaldoActualizado
from contracts.envelope import AuthContext
from services.cuentas import decisions, events
from services.cuentas import repository as repo
from services.cuentas.db import Cursor


@dataclass(frozen=True)
class Movido:
    """An approved movement once written: its ledger row's SaldoActualizado."""

    aprobado: decisions.Aprobado
    evento: SaldoActualizado


Resultado = Movido | decisions.Denegado


async def mover(
    cur: Cursor,
    pedidos: Sequence[decisions.Pedido],
    fecha: datetime,
    actores: Sequence[AuthContext | None] | None = None,
) -> list[Resultado]:
    """Decide and write `pedidos` on the caller's open transaction; one result per request, in order. `actores`: who
    made each request, in the same order (each ledger row keeps its own; None: nobody recorded). The caller puts the
    events in the outbox (with its correlation and authcontext) and answers the denials (an error, or a saga reply)."""
    quienes = list(actores) if actores is not None else [None] * len(pedidos)
    if len(quienes) != len(pedidos):
        raise ValueError(f"{len(quienes)} actors for {len(pedidos)} movements")
    # Row locks in cuenta_id order, so two batches sharing accounts cannot deadlock.
    cuentas = await repo.bloquear_cuentas(cur, (p.cuenta_id for p in pedidos))
    originales = [p.comando_original_id for p in pedidos if isinstance(p, RevertirDebito)]
    debitos = await repo.debitos_saga(cur, originales)

    decididos = decisions.decidir(pedidos, cuentas, debitos)

    aprobados = [(d, actor) for d, actor in zip(decididos, quienes, strict=True) if isinstance(d, decisions.Aprobado)]
    await repo.aplicar_deltas(cur, decisions.deltas([a for a, _ in aprobados]))
    asientos = [a.asiento(fecha, actor) for a, actor in aprobados]
    escritos = iter(zip(asientos, await repo.insertar_movimientos(cur, asientos), strict=True))
    resultados: list[Resultado] = []
    for d in decididos:
        if isinstance(d, decisions.Aprobado):
            asiento, movimiento_id = next(escritos)
            resultados.append(Movido(d, events.saldo_actualizado(d.cuenta, asiento, movimiento_id)))
        else:
            resultados.append(d)
    return resultados
