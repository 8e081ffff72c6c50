"""Read-side helpers: search terms, freshness headers, numero_cuenta filling, time arguments."""

from datetime import UTC, datetime, timedelta

import pytest

from consumers.times import parse_time
from services.perfil import projector
from services.perfil.folding import quoted
from services.perfil.service import search_terms, view_lag
from services.perfil.store import Freshness
from tests.unit.perfil import events as ev


def test_search_terms_are_lower_cased_unique_longest_first_and_without_nul():
    assert search_terms("  Ana  QUISPE ana\x00 ") == ["quispe", "ana"]
    assert search_terms("\x00") == []
    assert len(search_terms(" ".join(f"t{i}" for i in range(20)))) == 6


def test_lag_is_zero_when_caught_up_else_the_age_of_the_newest_folded_event():
    fresh = Freshness("perfil_v1", {"t:0": 5}, datetime.now(UTC) - timedelta(seconds=30), None, 5)
    assert view_lag(fresh, caught_up=True).headers() == {"X-View-Offsets": "t:0=5", "X-View-Lag": "0.000"}
    assert 29 < float(view_lag(fresh, caught_up=False).headers()["X-View-Lag"]) < 60
    empty = Freshness("perfil_v1", {}, None, None, 0)
    assert "X-View-Lag" not in view_lag(empty, caught_up=False).headers()


def test_a_refused_debit_shows_the_clientes_own_account_number_when_read():
    doc = projector.fold(
        projector.new_document(1), [ev.cliente_creado(1), ev.cuenta_abierta(5, 1), ev.fallida(origen=(1, 5))]
    )
    item = doc["transacciones_recientes"][0]
    doc["transacciones_recientes"] = [{**item, "numero_cuenta": None}]  # as transacciones reports a refusal
    shown = projector.perfil_completo(doc)["transacciones_recientes"][0]
    assert shown["numero_cuenta"] == "0000000000005"


def test_only_our_schema_names_reach_sql():
    assert quoted("perfil_v12") == '"perfil_v12"'
    with pytest.raises(ValueError, match="not a view schema"):
        quoted('perfil_v1"; DROP TABLE x; --')


def test_times_are_iso_now_or_relative_and_naive_means_utc():
    assert parse_time("2025-01-02T03:04:05") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("2025-01-02T03:04:05+02:00").utcoffset() == timedelta(hours=2)
    assert abs(parse_time("-2h") - (datetime.now(UTC) - timedelta(hours=2))) < timedelta(seconds=5)
    assert abs(parse_time("now") - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(ValueError):
        parse_time("yesterday-ish")
