"""The pure parts of `bank audit`: folding cuentas events and reconciling them with the database."""

from datetime import datetime, timedelta
from decimal import Decimal

from streams.replay.audit import CuentaEnBase, EventLedger, Movimiento, reconcile
from tests.unit.perfil import events as ev

NOW = datetime(2025, 1, 2, 12, 0)
OLD = NOW - timedelta(hours=1)
CUTOFF = NOW - timedelta(seconds=30)


def mov(movimiento_id: int, delta: str, resultante: str, fecha: datetime = OLD) -> Movimiento:
    return Movimiento(movimiento_id, Decimal(delta), Decimal(resultante), fecha)


def base(cuenta_id: int, saldo: str, *movs: Movimiento, apertura: datetime = OLD) -> dict[int, CuentaEnBase]:
    return {cuenta_id: CuentaEnBase(cuenta_id, Decimal(saldo), False, apertura, tuple(movs))}


def ledger(*messages: object, from_start: bool = True) -> EventLedger:
    out = EventLedger(from_start=from_start)
    for m in messages:
        out.apply(m)  # type: ignore[arg-type]
    return out


def kinds(result) -> list[tuple[int, str]]:
    return [(d.cuenta_id, d.tipo) for d in result.discrepancias]


HISTORY = (
    ev.cuenta_abierta(5, 1, saldo="100.00"),
    ev.saldo(5, 1, 1, "100.00", monto="100.00", causa="APERTURA"),
    ev.saldo(5, 1, 2, "70.00", monto="30.00", operacion="DEBITO"),
)
LEDGER = (mov(1, "100.00", "100.00"), mov(2, "-30.00", "70.00"))


def test_a_consistent_account_has_no_discrepancy():
    result = reconcile(ledger(*HISTORY).cuentas, base(5, "70.00", *LEDGER), full=True, cutoff=CUTOFF)
    assert result.discrepancias == []
    assert result.audited == 1


def test_a_saldo_changed_behind_the_ledger_is_reported_three_ways():
    result = reconcile(ledger(*HISTORY).cuentas, base(5, "71.00", *LEDGER), full=True, cutoff=CUTOFF)
    assert kinds(result) == [(5, "SALDO_VS_LEDGER"), (5, "SALDO_VS_ULTIMO_MOVIMIENTO"), (5, "SALDO_VS_EVENTOS")]


def test_a_young_movement_without_its_event_is_in_flight_an_old_one_is_lost():
    young = base(5, "80.00", *LEDGER, mov(3, "10.00", "80.00", fecha=NOW))
    result = reconcile(ledger(*HISTORY).cuentas, young, full=True, cutoff=CUTOFF)
    assert result.discrepancias == []
    assert result.en_vuelo == {5}
    old = base(5, "80.00", *LEDGER, mov(3, "10.00", "80.00"))
    assert kinds(reconcile(ledger(*HISTORY).cuentas, old, full=True, cutoff=CUTOFF)) == [(5, "EVENTOS_NO_PUBLICADOS")]


def test_a_movement_whose_event_never_came_is_reported_even_when_later_ones_did():
    events = ledger(HISTORY[0], HISTORY[1], ev.saldo(5, 1, 3, "80.00", monto="10.00"))
    rows = base(5, "80.00", *LEDGER, mov(3, "10.00", "80.00"))
    assert (5, "EVENTOS_FALTANTES") in kinds(reconcile(events.cuentas, rows, full=True, cutoff=CUTOFF))


def test_an_event_that_disagrees_with_its_ledger_row_is_reported():
    events = ledger(HISTORY[0], HISTORY[1], ev.saldo(5, 1, 2, "75.00", monto="30.00", operacion="DEBITO"))
    result = reconcile(events.cuentas, base(5, "70.00", *LEDGER), full=True, cutoff=CUTOFF)
    assert (5, "EVENTO_VS_LEDGER") in kinds(result)
    assert [d.tipo for d in events.cadena_rota] == ["CADENA_ROTA"]  # 100 - 30 is not 75


def test_duplicated_events_change_nothing():
    events = ledger(*HISTORY, *HISTORY)
    assert reconcile(events.cuentas, base(5, "70.00", *LEDGER), full=True, cutoff=CUTOFF).discrepancias == []
    assert events.cadena_rota == []


def test_a_republished_opening_before_the_next_movement_does_not_restart_the_chain():
    """An outbox relay may publish an account's opening twice (at-least-once); a movement after the copy is checked
    against the balance the chain had reached, not against zero (seen in CI: 0.00 + 16.23 "should give 16.23")."""
    events = ledger(HISTORY[0], HISTORY[1], HISTORY[0], HISTORY[1], HISTORY[2])
    assert events.cadena_rota == []
    assert reconcile(events.cuentas, base(5, "70.00", *LEDGER), full=True, cutoff=CUTOFF).discrepancias == []


def test_accounts_missing_on_either_side_are_reported_unless_just_opened():
    events = ledger(ev.cuenta_abierta(6, 1))
    rows = base(7, "0.00") | base(8, "0.00", apertura=NOW)
    result = reconcile(events.cuentas, rows, full=True, cutoff=CUTOFF)
    assert kinds(result) == [(7, "SIN_EVENTOS"), (6, "SIN_CUENTA_EN_BASE")]
    assert result.en_vuelo == {8}


def test_from_a_time_only_accounts_with_recent_events_are_audited():
    recent = ledger(ev.saldo(5, 1, 2, "70.00", monto="30.00", operacion="DEBITO"), from_start=False)
    rows = base(5, "70.00", *LEDGER) | base(9, "5.00")  # 9 is inconsistent but had no event in the range
    result = reconcile(recent.cuentas, rows, full=False, cutoff=CUTOFF)
    assert result.discrepancias == []
    assert result.audited == 1
