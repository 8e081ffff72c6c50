"""A model of what the clientes cuentas projection's SQL does with one change (services/clientes/repository.py), for
the tests that prove its set-based batches equal the changes applied one at a time. The model itself is checked
against the real PostgreSQL (tests/integration/clientes/test_projection_batches.py)."""

import random
from dataclasses import dataclass, replace
from decimal import Decimal

from services.clientes.projection import CambioCuenta


@dataclass(frozen=True)
class Fila:
    cliente_id: int
    estado: str
    saldo: Decimal
    ultimo_movimiento_id: int
    eliminada: bool


def aplicar(filas: dict[int, Fila], cambio: CambioCuenta) -> None:
    """One change, as its statement does it."""
    fila = filas.get(cambio.cuenta_id)
    c = cambio
    if c.kind == "abierta":
        if fila is None:
            filas[c.cuenta_id] = Fila(c.cliente_id, c.estado, c.saldo, 0, False)
    elif c.kind == "saldo":
        if fila is None:
            filas[c.cuenta_id] = Fila(c.cliente_id, "activa", c.saldo, c.movimiento_id, False)
        elif fila.ultimo_movimiento_id < c.movimiento_id:
            filas[c.cuenta_id] = replace(fila, saldo=c.saldo, ultimo_movimiento_id=c.movimiento_id)
    elif c.kind == "estado":
        if fila is None:
            filas[c.cuenta_id] = Fila(c.cliente_id, c.estado, Decimal("0"), 0, False)
        elif fila.estado != "cerrada":
            filas[c.cuenta_id] = replace(fila, estado=c.estado)
    elif fila is None:
        filas[c.cuenta_id] = Fila(c.cliente_id, "cerrada", Decimal("0"), 0, True)
    else:
        filas[c.cuenta_id] = replace(fila, eliminada=True)


def cambios_al_azar(rng: random.Random, n: int, cuentas: range) -> list[CambioCuenta]:
    """n changes of every kind over a few accounts (each account's cliente is fixed), movements out of order."""
    kinds = ["abierta", "saldo", "saldo", "saldo", "estado", "eliminada"]
    estados = ["activa", "bloqueada", "cerrada"]
    out = []
    for _ in range(n):
        cuenta = rng.choice(cuentas)
        kind = rng.choice(kinds)
        out.append(
            CambioCuenta(
                kind,  # type: ignore[arg-type]
                cuenta,
                cuenta * 10,
                estado=rng.choice(estados),  # type: ignore[arg-type]
                saldo=Decimal(rng.randint(0, 10_000)) / 100,
                movimiento_id=rng.randint(1, 40),
            )
        )
    return out
