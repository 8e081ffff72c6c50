"""The cuentas projection's rounds (repository.rondas): applying each round's changes in any order leaves what
applying every change in its order leaves, and a round never holds an account twice."""

import random
from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.clientes.projection import CambioCuenta
from services.clientes.repository import rondas
from tests.cambios_cuenta import Fila, aplicar, cambios_al_azar


def _en_orden(cambios: list[CambioCuenta]) -> dict[int, Fila]:
    filas: dict[int, Fila] = {}
    for cambio in cambios:
        aplicar(filas, cambio)
    return filas


def _por_rondas(cambios: list[CambioCuenta], rng: random.Random) -> dict[int, Fila]:
    filas: dict[int, Fila] = {}
    for ronda in rondas(cambios):
        assert max(Counter(c.cuenta_id for c in ronda).values()) == 1
        for cambio in rng.sample(ronda, len(ronda)):  # the statements of a round run in no particular order
            aplicar(filas, cambio)
    return filas


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60), cuentas=st.integers(1, 6))
def test_las_rondas_dejan_lo_mismo_que_el_orden(seed: int, n: int, cuentas: int) -> None:
    rng = random.Random(seed)
    cambios = cambios_al_azar(rng, n, range(1, cuentas + 1))
    assert _por_rondas(cambios, rng) == _en_orden(cambios)


def test_saldos_seguidos_de_una_cuenta_son_uno_solo() -> None:
    saldos = [CambioCuenta("saldo", 1, 9, saldo=Decimal(s), movimiento_id=m) for s, m in ((1, 3), (2, 7), (3, 5))]
    abierta = CambioCuenta("abierta", 2, 9)
    assert rondas([saldos[0], abierta, saldos[1], saldos[2]]) == [[saldos[1], abierta]]


def test_cada_cambio_de_una_cuenta_va_en_la_ronda_siguiente() -> None:
    a = [CambioCuenta("abierta", 1, 9), CambioCuenta("estado", 1, 9, estado="bloqueada"), CambioCuenta("saldo", 1, 9)]
    b = CambioCuenta("abierta", 2, 9)
    assert rondas([a[0], a[1], b, a[2]]) == [[a[0], b], [a[1]], [a[2]]]
