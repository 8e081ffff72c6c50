"""The one way a saldo changes, for the teller and the saga alike: lock the accounts, read what today used of their
daily limits, decide every request in order (decisions.decidir, pure), write the net change and one ledger row per
approved movement, and build its event."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from contracts.comandos import RevertirDebito
from contracts.cuentas import SaldoActualizado
from contracts.envelope import AuthContext
from services.cuentas import decisions, events
from services.cuentas import repository as repo
from services.cuentas.db import Cursor
from services.cuentas.domain import ventana_del_dia


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
    cupos = {(p.cuenta_id, cupo) for p in pedidos if (cupo := decisions.cupo_de(p)) is not None}
    # Row locks in cuenta_id order, so two batches sharing accounts cannot deadlock.
    cuentas = await repo.bloquear_cuentas(cur, (p.cuenta_id for p in pedidos), con_limites=bool(cupos))
    originales = [p.comando_original_id for p in pedidos if isinstance(p, RevertirDebito)]
    debitos = await repo.debitos_saga(cur, originales)
    # What the ledger day of `fecha` (Lima) used of the limits these debits count against, read under the row locks
    # every movement of these accounts takes: no debit can slip in between this sum and the decision. Only accounts
    # with such a limit in force pay for the read.
    limitadas = {cid for cid, cupo in cupos if cid in cuentas and cuentas[cid].limites.de(cupo) is not None}
    usados = await repo.usados_en_el_dia(cur, limitadas, *ventana_del_dia(fecha))

    decididos = decisions.decidir(pedidos, cuentas, debitos, usados)

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
