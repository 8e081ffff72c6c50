"""The account-owner replica's fold and the customer filter it feeds (pure parts; the real store is in the
integration identity tests)."""

from datetime import UTC, datetime
from decimal import Decimal

from contracts.cuentas import SaldoActualizado
from contracts.envelope import envelope_for
from services.transacciones.propietarios import duenos
from services.transacciones.repository import Filtro
from tests.aperturas import abierta


def test_solo_las_aperturas_dicen_de_quien_es_una_cuenta() -> None:
    saldo = SaldoActualizado(
        cuenta_id=5,
        cliente_id=9,  # not an opening: says nothing about ownership here
        numero_cuenta="1005",
        movimiento_id=1,
        operacion="CREDITO",
        causa="DEPOSITO",
        monto=Decimal(1),
        saldo=Decimal(1),
        moneda="PEN",
        fecha=datetime(2026, 1, 2, tzinfo=UTC),
    )
    envelopes = [
        envelope_for(abierta(5, 1), source="cuentas"),
        envelope_for(saldo, source="cuentas"),
        envelope_for(abierta(6, 2), source="cuentas"),
        envelope_for(abierta(5, 1), source="cuentas"),  # redelivered: the same owner again
    ]
    assert duenos(envelopes) == {5: 1, 6: 2}


def test_el_filtro_de_un_cliente_pide_sus_cuentas_como_origen_o_destino() -> None:
    own = {"$in": [3, 7]}
    assert Filtro(cuentas=frozenset({7, 3})).query() == {"$or": [{"cuenta_origen_id": own}, {"cuenta_destino_id": own}]}
    both = Filtro(cuenta_id=3, cuentas=frozenset({3, 7})).query()
    assert both["$and"][1] == {"$or": [{"cuenta_origen_id": own}, {"cuenta_destino_id": own}]}
